// Tenure's production web server (`npm start`). It serves the Remix build exactly as
// remix-serve does (static assets, compression, request log, Remix handler), except that
// webhook deliveries (POST /webhooks/<topic>) go straight to the intake. The Express and
// Remix request pipeline cost about 0.5 ms of CPU per delivery, half the intake's budget
// at 1,000 deliveries/s on 2 cores (measured: bench/webhook-intake.bench.ts).
//
// Usage: node server.mjs [build/server/index.js]   (PORT, HOST from the environment)
import http from "node:http";
import path from "node:path";
import url from "node:url";
import { createRequestHandler } from "@remix-run/express";
import compression from "compression";
import express from "express";
import morgan from "morgan";

const buildPath = path.resolve(process.argv[2] ?? "build/server/index.js");
const build = await import(url.pathToFileURL(buildPath).href);
/** The intake, from the same server bundle the Remix routes use (app/entry.server.tsx). */
const { receiveWebhook, WEBHOOK_TOPICS, validateEnvironment, redactedRequestUrl } = build.entry.module;
// At boot, not at the first request: a bad environment (demo mode in production, a missing
// secret) stops the server with a message naming each variable before it listens.
validateEnvironment();
const webhookPaths = new Set(WEBHOOK_TOPICS.map((topic) => `/webhooks/${topic}`));

const app = express();
app.disable("x-powered-by");
app.use(compression());
app.use(build.publicPath, express.static(build.assetsBuildDirectory, { immutable: true, maxAge: "1y" }));
app.use(express.static("public", { maxAge: "1h" }));
// morgan's "tiny" format, with credentials in the query string blanked (app/lib/request-log.ts).
morgan.token("redacted-url", (req) => redactedRequestUrl(req.originalUrl ?? req.url ?? ""));
app.use(morgan(":method :redacted-url :status :res[content-length] - :response-time ms"));
// Loaders get the Node response as `context.res`: a streamed download (the CSV exports) waits
// on its socket's backpressure, which @remix-run/express's body writer ignores.
app.all("*", createRequestHandler({ build, mode: process.env.NODE_ENV, getLoadContext: (_req, res) => ({ res }) }));

async function deliverWebhook(req, res) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const body = bodyOnDemand(req);
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, { method: req.method, headers, body: body.stream, duplex: "half" });
  const response = await receiveWebhook(request);
  // The intake answered without the whole body (deadline, size, budget, a shop it drops):
  // the client may still be sending. It gets a moment to read the answer, then the
  // connection is cut, rather than drained until requestTimeout.
  const unread = body.abandoned() || !req.complete;
  if (unread) res.shouldKeepAlive = false;
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()), () => {
    if (unread) setTimeout(() => req.socket.destroy(), 1_000).unref();
  });
}

/**
 * The request body as a web stream that reads from the socket only when the intake asks,
 * so a body the intake refused or has not reached yet waits in the kernel instead of in
 * this process (Readable.toWeb reads ahead). Cancelling it stops the reading; the caller
 * then closes the connection once it has answered.
 */
function bodyOnDemand(req) {
  const chunks = req[Symbol.asyncIterator]();
  let abandoned = false;
  const stream = new ReadableStream(
    {
      async pull(controller) {
        const { done, value } = await chunks.next();
        if (abandoned) return;
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      cancel() {
        // Not chunks.return(): it waits for a pending read, which a stalled body never ends.
        abandoned = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, abandoned: () => abandoned };
}

// Node's defaults let a client hold a request for 300 s and its headers for 60 s, checked
// every 30 s. Webhook bodies have their own deadline in the intake (WEBHOOK_BODY_DEADLINE_MS).
const server = http.createServer({
  headersTimeout: 10_000,
  requestTimeout: 30_000, // the whole request, page or form; must be ≥ headersTimeout
  connectionsCheckingInterval: 1_000, // how often the two above are enforced
  // Longer than a load balancer's idle timeout (AWS ALB: 60 s), so the balancer closes an
  // idle connection first and never sends a request onto a socket this server is closing.
  keepAliveTimeout: 65_000,
}, (req, res) => {
  const pathname = req.url?.split("?", 1)[0];
  if (req.method === "POST" && webhookPaths.has(pathname)) {
    deliverWebhook(req, res).catch((error) => {
      console.error(`tenure: webhook ${pathname} failed: ${error?.stack ?? error}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return;
  }
  app(req, res);
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, process.env.HOST, () => console.log(`[tenure] http://localhost:${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref(); // in-flight requests get 10 s
  });
}
