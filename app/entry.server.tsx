import { PassThrough } from "node:stream";
import { createReadableStreamFromReadable, type EntryContext } from "@remix-run/node";
import { RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { addDocumentResponseHeaders } from "./shopify.server";

// The production server (server.mjs) hands webhook deliveries to the intake directly,
// from this same bundle, without the Remix request pipeline.
export { receiveWebhook } from "./ingest/intake.server";
export { TOPICS as WEBHOOK_TOPICS } from "./ingest/topics";
// server.mjs validates the environment at boot and logs requests through these.
export { env as validateEnvironment } from "./env.server";
export { redactedRequestUrl } from "./lib/request-log";

export const streamTimeout = 5_000;

export default async function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
) {
  // Shopify's document headers (frame-ancestors for the admin, App Bridge link headers).
  addDocumentResponseHeaders(request, responseHeaders);
  // Bots get the complete document; browsers get the shell as soon as it is ready.
  const readyEvent = isbot(request.headers.get("user-agent") ?? "") ? "onAllReady" : "onShellReady";

  return new Promise<Response>((resolve, reject) => {
    const { pipe, abort } = renderToPipeableStream(<RemixServer context={remixContext} url={request.url} />, {
      [readyEvent]: () => {
        const body = new PassThrough();
        responseHeaders.set("Content-Type", "text/html");
        resolve(
          new Response(createReadableStreamFromReadable(body), { headers: responseHeaders, status: responseStatusCode }),
        );
        pipe(body);
      },
      onShellError(error: unknown) {
        reject(error);
      },
      onError(error: unknown) {
        responseStatusCode = 500;
        console.error(error);
      },
    });
    // Give React time to flush rejected boundaries before the render is cut off.
    setTimeout(abort, streamTimeout + 1_000);
  });
}
