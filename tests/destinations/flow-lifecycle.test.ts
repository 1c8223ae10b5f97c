import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { isFlowTriggerEnabled } from "~/data/flow-triggers.server";
import { CHURN_RISK, DUE_TO_REORDER, FLOW_TRIGGERS, RFM_SEGMENT_CHANGED } from "~/destinations/flow/triggers";
import { redactShop } from "~/ingest/gdpr.server";
import { action, loader } from "~/routes/flow.lifecycle";
import { installedShop, testDb, testPool } from "../support/db";
import { shopifyHmac } from "../support/signed-webhooks";

// Shopify Flow's trigger lifecycle callback through its route (app/routes/flow.lifecycle.tsx),
// on PostgreSQL: signed as Flow signs it (X-Shopify-Hmac-Sha256 over the raw body with the
// app's client secret), with the body of the docs' shape
// (https://shopify.dev/docs/apps/build/flow/track-lifecycle-events).

const root = fileURLToPath(new URL("../../", import.meta.url));

interface CallbackFields {
  flow_trigger_definition_id: string;
  has_enabled_flow: boolean;
  shop_id: number | string;
  shopify_domain: string;
  timestamp: string;
}

function callbackBody(shop: string, fields: Partial<CallbackFields> = {}): string {
  return JSON.stringify({
    flow_trigger_definition_id: CHURN_RISK.handle,
    has_enabled_flow: true,
    shop_id: 690933842,
    shopify_domain: shop,
    timestamp: "2026-12-06T16:44:10.999Z",
    ...fields,
  });
}

function flowRequest(body: string, options: { hmac?: string | null; method?: string } = {}): Request {
  const headers = new Headers({ "Content-Type": "application/json" });
  const hmac = options.hmac === undefined ? shopifyHmac(body) : options.hmac;
  if (hmac !== null) headers.set("X-Shopify-Hmac-Sha256", hmac);
  return new Request("https://example.com/flow/lifecycle", { method: options.method ?? "POST", headers, body });
}

async function send(body: string, options: { hmac?: string | null } = {}): Promise<{ status: number; text: string }> {
  const response = await action({ request: flowRequest(body, options), params: {}, context: {} });
  return { status: response.status, text: await response.text() };
}

async function rows(shop: string) {
  const result = await testPool().query<{ handle: string; enabled: boolean; callbackAt: string; updatedAt: Date }>(
    `SELECT handle, enabled, to_char("callbackAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "callbackAt", "updatedAt"
       FROM "FlowTriggerLifecycle" WHERE shop = $1 ORDER BY handle`,
    [shop],
  );
  return result.rows;
}

describe("POST /flow/lifecycle (Flow's trigger lifecycle callback)", () => {
  it("stores a signed callback: the shop has an enabled workflow using that trigger, and only that one", async () => {
    const shop = await installedShop("flow");
    expect(await isFlowTriggerEnabled(testPool(), shop, CHURN_RISK.handle)).toBe(false);

    expect(await send(callbackBody(shop))).toEqual({ status: 200, text: "Stored." });

    expect(await isFlowTriggerEnabled(testPool(), shop, CHURN_RISK.handle)).toBe(true);
    expect(await isFlowTriggerEnabled(testPool(), shop, RFM_SEGMENT_CHANGED.handle)).toBe(false);
    expect(await rows(shop)).toMatchObject([{ handle: CHURN_RISK.handle, enabled: true, callbackAt: "2026-12-06T16:44:10.999000Z" }]);
  });

  it("turns a trigger off on a newer callback saying so, and reads the shop's domain in any case", async () => {
    const shop = await installedShop("flow");
    await send(callbackBody(shop, { timestamp: "2026-12-06T10:00:00Z" }));
    expect(await send(callbackBody(shop.toUpperCase(), { has_enabled_flow: false, timestamp: "2026-12-06T10:00:01Z", shop_id: "690933842" }))).toMatchObject({ status: 200 });
    expect(await isFlowTriggerEnabled(testPool(), shop, CHURN_RISK.handle)).toBe(false);
  });

  it("changes nothing on a replay of the stored callback", async () => {
    const shop = await installedShop("flow");
    const body = callbackBody(shop);
    await send(body);
    const before = await rows(shop);

    expect(await send(body)).toEqual({ status: 200, text: "A callback as new or newer is stored already; nothing changed." });
    expect(await rows(shop)).toEqual(before);
  });

  it("ignores a callback older than the stored one (Flow may deliver them out of order), to the microsecond", async () => {
    const shop = await installedShop("flow");
    await send(callbackBody(shop, { has_enabled_flow: false, timestamp: "2026-12-06T12:00:00.000002Z" }));
    // Enabled, one microsecond earlier: the same millisecond, older.
    await send(callbackBody(shop, { has_enabled_flow: true, timestamp: "2026-12-06T12:00:00.000001Z" }));
    await send(callbackBody(shop, { has_enabled_flow: true, timestamp: "2026-12-06T13:00:00+02:00" }));

    expect(await rows(shop)).toMatchObject([{ enabled: false, callbackAt: "2026-12-06T12:00:00.000002Z" }]);
    expect(await isFlowTriggerEnabled(testPool(), shop, CHURN_RISK.handle)).toBe(false);
  });

  it("keeps each trigger of a shop apart, and each shop apart", async () => {
    const shop = await installedShop("flow");
    const other = await installedShop("flow-other");
    await send(callbackBody(shop, { flow_trigger_definition_id: DUE_TO_REORDER.handle }));
    await send(callbackBody(shop, { flow_trigger_definition_id: RFM_SEGMENT_CHANGED.handle, has_enabled_flow: false }));
    await send(callbackBody(other, { flow_trigger_definition_id: RFM_SEGMENT_CHANGED.handle }));

    expect((await rows(shop)).map((row) => [row.handle, row.enabled])).toEqual([
      [DUE_TO_REORDER.handle, true],
      [RFM_SEGMENT_CHANGED.handle, false],
    ]);
    expect(await isFlowTriggerEnabled(testPool(), other, RFM_SEGMENT_CHANGED.handle)).toBe(true);
  });

  it("accepts the trigger's name as its id (the docs' example id is a trigger's title)", async () => {
    const shop = await installedShop("flow");
    expect((await send(callbackBody(shop, { flow_trigger_definition_id: RFM_SEGMENT_CHANGED.name }))).status).toBe(200);
    expect(await isFlowTriggerEnabled(testPool(), shop, RFM_SEGMENT_CHANGED.handle)).toBe(true);
  });

  it("answers 401 to a forged, missing or other app's signature, and stores nothing", async () => {
    const shop = await installedShop("flow");
    const body = callbackBody(shop);
    const forged = callbackBody(shop, { has_enabled_flow: false });

    expect((await send(body, { hmac: null })).status).toBe(401);
    expect((await send(body, { hmac: shopifyHmac(body, "another app's secret") })).status).toBe(401);
    expect((await send(forged, { hmac: shopifyHmac(body) })).status).toBe(401);
    expect((await send(body, { hmac: "not base64 at all" })).status).toBe(401);
    expect(await rows(shop)).toEqual([]);
  });

  it("answers 400 with the reason to a signed body that is not a callback, never 500, and stores nothing", async () => {
    const shop = await installedShop("flow");
    const cases: [string, RegExp][] = [
      ["{not json", /not JSON/],
      ["[]", /not a JSON object/],
      ["", /not JSON/],
      [JSON.stringify({ has_enabled_flow: true, shopify_domain: shop, timestamp: "2026-12-06T10:00:00Z" }), /flow_trigger_definition_id/],
      [callbackBody(shop, { has_enabled_flow: "true" as unknown as boolean }), /has_enabled_flow/],
      [callbackBody(shop, { shopify_domain: "example.com" }), /shopify_domain/],
      [callbackBody(shop, { timestamp: "yesterday" }), /timestamp/],
      [callbackBody(shop, { timestamp: "2026-12-06T10:00:00" }), /timestamp/],
    ];
    for (const [body, reason] of cases) {
      const answer = await send(body);
      expect(answer.status, body).toBe(400);
      expect(answer.text, body).toMatch(reason);
    }
    expect(await rows(shop)).toEqual([]);
  });

  it("answers 400 naming Tenure's triggers to an unknown trigger, and stores nothing", async () => {
    const shop = await installedShop("flow");
    const answer = await send(callbackBody(shop, { flow_trigger_definition_id: "Add row to spreadsheet" }));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('"Add row to spreadsheet" is not one of Tenure\'s triggers');
    for (const trigger of FLOW_TRIGGERS) expect(answer.text).toContain(trigger.handle);
    expect(await rows(shop)).toEqual([]);
  });

  it("refuses other methods (405) and bodies far larger than a callback (413)", async () => {
    const shop = await installedShop("flow");
    expect(loader().status).toBe(405);
    const huge = callbackBody(shop, { flow_trigger_definition_id: "x".repeat(20_000) });
    expect((await send(huge)).status).toBe(413);
    expect(await rows(shop)).toEqual([]);
  });

  it("loses the shop's rows on shop/redact, and a late callback for the redacted shop does not bring one back", async () => {
    const shop = await installedShop("flow");
    const other = await installedShop("flow-kept");
    await send(callbackBody(shop));
    await send(callbackBody(shop, { flow_trigger_definition_id: DUE_TO_REORDER.handle }));
    await send(callbackBody(other));

    const counts = await redactShop(testDb(), shop);
    expect(counts.flowTriggers).toBe(2);
    expect(await rows(shop)).toEqual([]);
    expect(await rows(other)).toHaveLength(1);

    expect(await send(callbackBody(shop, { timestamp: "2026-12-07T00:00:00Z" }))).toMatchObject({ status: 200 });
    expect(await rows(shop)).toEqual([]);
  });
});

describe("extensions/tenure-flow-lifecycle (where Flow sends the callback)", () => {
  const extension = parse(readFileSync(`${root}extensions/tenure-flow-lifecycle/shopify.extension.toml`, "utf8")) as {
    extensions: { type: string; handle: string; name: string; url: string }[];
  };
  const app = parse(readFileSync(`${root}shopify.app.toml`, "utf8")) as { application_url: string };

  it("is the app's one lifecycle callback, an absolute HTTPS url on the app's host at the route's path", () => {
    expect(extension.extensions).toHaveLength(1);
    const [callback] = extension.extensions;
    expect(callback).toMatchObject({ type: "flow_trigger_lifecycle_callback", handle: "tenure-flow-lifecycle" });
    const url = new URL(callback.url);
    expect(url.protocol).toBe("https:");
    expect(url.host).toBe(new URL(app.application_url).host);
    expect(url.pathname).toBe("/flow/lifecycle");
  });
});
