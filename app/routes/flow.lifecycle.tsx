import { type ActionFunctionArgs } from "@remix-run/node";
import { pgPool } from "~/db/pg.server";
import { env } from "~/env.server";
import { hasValidHmac } from "~/ingest/intake.server";
import { receiveFlowLifecycle } from "~/pages/flow-lifecycle.server";

// POST /flow/lifecycle: Shopify Flow's trigger lifecycle callback, declared as the url of
// extensions/tenure-flow-lifecycle. Signed like a webhook (X-Shopify-Hmac-Sha256: base64
// HMAC-SHA256 of the raw body with the app's client secret; the intake's timing-safe check),
// so the raw bytes are read before anything is parsed. Bad or missing signature 401 ·
// body over MAX_BODY_BYTES 413 · a body Tenure cannot use 400 with the reason · stored 200 ·
// database unreachable 503 (Flow asks the merchant to try again later). Flow waits 5 s at most.

/** A callback is five short fields; anything much larger is not one. */
const MAX_BODY_BYTES = 16 * 1024;

const answer = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(message, { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers } });

async function readBodyUpTo(request: Request, maxBytes: number): Promise<Buffer | null> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
}

export const action = async ({ request }: ActionFunctionArgs) => {
  if (request.method !== "POST") return answer(405, "POST only", { Allow: "POST" });
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) return answer(413, `body over ${MAX_BODY_BYTES} bytes`);
  const body = await readBodyUpTo(request, MAX_BODY_BYTES).catch(() => "cut off" as const);
  if (body === null) return answer(413, `body over ${MAX_BODY_BYTES} bytes`);
  if (body === "cut off") return answer(400, "the body was cut off");
  const signature = request.headers.get("X-Shopify-Hmac-Sha256");
  if (!signature || !hasValidHmac(body, signature, env().SHOPIFY_API_SECRET)) return answer(401, "invalid HMAC");
  try {
    const result = await receiveFlowLifecycle(pgPool(), body.toString("utf8"));
    return answer(result.status, result.message);
  } catch (error) {
    console.error(`tenure: could not store a Flow trigger lifecycle callback; answered 503: ${error instanceof Error ? error.message : String(error)}`);
    return answer(503, "could not store the callback; try again later", { "Retry-After": "5" });
  }
};

export const loader = () => answer(405, "POST only", { Allow: "POST" });
