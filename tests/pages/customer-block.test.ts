import { createHmac, randomUUID } from "node:crypto";
import { dayIndex } from "~/analytics/dates";
import { DEFAULT_METRICS_SETTINGS, saveSettings } from "~/data/settings.server";
import { loadCustomerBlock } from "~/pages/customer-block.server";
import { parseCustomerBlockResponse, stateOfResponse } from "../../extensions/tenure-customer-block/src/customer-block";
import { metricsRow, writeMetrics } from "../support/customer-metrics-rows";
import { testDb, testPool, uniqueShop } from "../support/db";
import { insertShop } from "../support/precomputed-rows";

// The customer details block's app route, GET /api/customers/:id/metrics, on real
// PostgreSQL: one customer of the session token's shop in the labels and formats of
// Tenure's customer page, 404 for another shop's or an unknown customer, 400 for an id that
// is not one; through the route with signed session tokens (401 without a valid one, CORS
// headers for admin), and the extension's parser reads every answer the loader gives.

const API_KEY = process.env.SHOPIFY_API_KEY ?? "";
const API_SECRET = process.env.SHOPIFY_API_SECRET ?? "";
const APP_URL = process.env.SHOPIFY_APP_URL ?? "";
const ADMIN_ORIGIN = "https://admin.shopify.com";

const AS_OF_ISO = "2026-12-05";
const AS_OF = dayIndex(AS_OF_ISO);

const shop = uniqueShop("block");
const other = uniqueShop("block-other");

/** A Shopify session token (HS256 JWT) as admin sends it with an extension's fetch (as tests/web/app-auth.test.ts signs them). */
function sessionToken(forShop: string, secret = API_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "HS256", typ: "JWT" });
  const payload = encode({ iss: `https://${forShop}/admin`, dest: `https://${forShop}`, aud: API_KEY, sub: "42", exp: now + 60, nbf: now - 5, iat: now - 5, jti: randomUUID(), sid: randomUUID() });
  return `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;
}

async function insertCustomers(forShop: string, ids: number[]) {
  const at = new Date("2026-01-01T00:00:00Z");
  await testDb().customer.createMany({ data: ids.map((id) => ({ shop: forShop, id: BigInt(id), shopifyUpdatedAt: at })) });
}

type Loader = (args: { request: Request; params: { id?: string }; context: object }) => Promise<Response>;
let loader: Loader;

beforeAll(async () => {
  const pool = testPool();
  await insertShop(pool, shop, { currency: "EUR" });
  await insertShop(pool, other, { currency: "USD" });
  // A two-year horizon and a renamed segment: the block still shows 12 months, and the shop's own segment name.
  await saveSettings(pool, shop, { ...DEFAULT_METRICS_SETTINGS, horizonDays: 730, segmentLabels: { champions: "Best buyers" } });
  await insertCustomers(shop, [1, 2, 3]);
  await insertCustomers(other, [1, 900]);
  await writeMetrics(
    shop,
    [
      // Over the two-year horizon 12,345; over 12 months 1.5 orders of 40.00.
      metricsRow(1, {
        orders: 4,
        netSpent: 50_000,
        segment: "champions",
        chanceOfOrder90d: 0.4249,
        predictedClv: 12_345,
        expectedPurchases365d: 1.5,
        expectedOrderValue: 4_000,
        expectedNextOrderDay: dayIndex("2027-01-15"),
      }),
      // Scored without predictions (no model yet): the figures show as missing, never as zero.
      metricsRow(3, { orders: 1, netSpent: 2_000, segment: "new" }),
    ],
    AS_OF,
  );
  await writeMetrics(other, [metricsRow(1, { netSpent: 99_999, segment: "lost", predictedClv: 7_777, expectedPurchases365d: 1, expectedOrderValue: 1_000 }), metricsRow(900, { segment: "lost" })], AS_OF);
  await testDb().session.create({
    data: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope: process.env.SCOPES ?? null, accessToken: "shpat_test" },
  });
  ({ loader } = (await import("~/routes/api.customers.$id.metrics")) as unknown as { loader: Loader });
});

describe("the customer block's data (loadCustomerBlock)", () => {
  it("gives a scored customer's segment, expected spend over 12 months (as the metafield, whatever the horizon), spent to date, chance of ordering and next order, formatted as Tenure's pages", async () => {
    expect(await loadCustomerBlock(testPool(), shop, "1")).toEqual({
      status: 200,
      body: {
        customerId: "1",
        tenurePath: "/app/customers/1",
        metrics: {
          segment: { key: "champions", name: "Best buyers" },
          expectedSpend: { label: "Expected spend, next 12 months", value: 6_000, text: "€60.00" },
          spentToDate: { label: "Spent to date", value: 50_000, text: "€500.00" },
          chanceOfOrder90d: { label: "Chance of ordering, next 90 days", value: 0.4249, text: "42%" },
          expectedNextOrder: { label: "Expected next order", value: "2027-01-15", text: "Jan 15, 2027" },
          scoredAsOf: { label: "Scored as of", value: AS_OF_ISO, text: "Dec 5, 2026" },
          currency: "EUR",
        },
      },
    });
    // At the default 12-month horizon it is the stored prediction, the figure Tenure's customer page shows.
    expect(await loadCustomerBlock(testPool(), other, "1")).toMatchObject({ body: { metrics: { expectedSpend: { value: 7_777, text: "$77.77" } } } });
    expect(await loadCustomerBlock(testPool(), shop, "3")).toMatchObject({
      body: { metrics: { expectedSpend: { value: null, text: "—" }, chanceOfOrder90d: { value: null, text: "—" }, expectedNextOrder: { value: null, text: "—" } } },
    });
  });

  it("answers a customer Tenure knows but has not scored with no metrics", async () => {
    expect(await loadCustomerBlock(testPool(), shop, "2")).toEqual({ status: 200, body: { customerId: "2", tenurePath: "/app/customers/2", metrics: null } });
  });

  it("answers 404 for another shop's customer and an unknown id, 400 for an id that is not one", async () => {
    for (const id of ["900", "4", "9223372036854775807"]) expect((await loadCustomerBlock(testPool(), shop, id)).status, id).toBe(404);
    for (const id of ["", "abc", "-1", "1.5", "gid://shopify/Customer/1", "9223372036854775808", "12345678901234567890"]) {
      expect((await loadCustomerBlock(testPool(), shop, id)).status, id).toBe(400);
    }
  });

  it("is read by the extension's parser, answer for answer", async () => {
    for (const id of ["1", "2", "3"]) {
      const { body } = await loadCustomerBlock(testPool(), shop, id);
      expect(parseCustomerBlockResponse(JSON.parse(JSON.stringify(body))), id).not.toBeNull();
    }
    const scored = stateOfResponse(200, JSON.parse(JSON.stringify((await loadCustomerBlock(testPool(), shop, "1")).body)));
    expect(scored).toMatchObject({ kind: "scored", view: { summary: "Best buyers · 42% chance of ordering in 90 days" } });
  });
});

describe("GET /api/customers/:id/metrics", () => {
  const request = (id: string, headers: Record<string, string>, method = "GET") =>
    loader({ request: new Request(`${APP_URL}/api/customers/${id}/metrics`, { method, headers: { Origin: ADMIN_ORIGIN, ...headers } }), params: { id }, context: {} }).catch(
      (thrown: unknown) => {
        if (thrown instanceof Response) return thrown;
        throw thrown;
      },
    );

  it("serves the session token's shop its customer as JSON that admin may read (CORS), uncached", async () => {
    const response = await request("1", { Authorization: `Bearer ${sessionToken(shop)}` });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    expect(await response.json()).toMatchObject({ customerId: "1", metrics: { segment: { name: "Best buyers" } } });
  });

  it("answers another shop's customer 404 and a bad id 400, to the signed-in shop", async () => {
    const headers = { Authorization: `Bearer ${sessionToken(shop)}` };
    expect((await request("900", headers)).status).toBe(404);
    expect((await request("abc", headers)).status).toBe(400);
  });

  it("refuses a forged session token (401), sends a request with none to sign in, and answers admin's preflight", async () => {
    const anonymous = await request("1", {});
    expect([anonymous.status, anonymous.headers.get("Location")]).toEqual([302, "/auth/login"]);
    expect((await request("1", { Authorization: `Bearer ${sessionToken(shop, "forged")}` })).status).toBe(401);
    const preflight = await request("1", { "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" }, "OPTIONS");
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
  });
});
