// Tenure's production web server (`npm start`). It serves the Remix build exactly as
// remix-serve does (static assets, compression, request log, Remix handler), except that
// webhook deliveries (POST /webhooks/<topic>) go straight to the intake. The Express and
// Remix request pipeline cost about 0.5 ms of CPU per delivery, half the intake's budget
// at 1,000 deliveries/s on 2 cores (measured: bench/webhook-intake.bench.ts).
//
// Usage: node server.mjs [build/server/index.js]   (PORT, HOST from the environment)
import http from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
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
app.all("*", createRequestHandler({ build, mode: process.env.NODE_ENV }));

async function deliverWebhook(req, res) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  // The body is streamed, not buffered here: the intake counts bytes and answers 413 past its limit.
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, {
    method: req.method,
    headers,
    body: Readable.toWeb(req),
    duplex: "half",
  });
  const response = await receiveWebhook(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

const server = http.createServer((req, res) => {
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
