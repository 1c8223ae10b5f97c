import { describe, expect, it } from "vitest";
import { CART_ABANDONMENT_WINDOW_DAYS } from "~/analytics/behaviour";
import { CHECKOUT_RETENTION_MARGIN_DAYS, pruneCheckouts, refreshCartAbandoners, SETTLED_CHECKOUT_KEEP_DAYS } from "~/data/checkouts.server";
import { processDelivery } from "~/ingest/deliveries.server";
import { checkoutOwnersSql, emailTombstoneId } from "~/ingest/upsert-checkout.server";
import { recomputeCustomerMetrics } from "~/metrics/recompute.server";
import { loadAbandonedCarts } from "~/pages/segments.server";
import { refitShop } from "~/refit/refit.server";
import { insertDelivery, testDb, testPool, uniqueShop } from "../support/db";
import { fixture, type Json } from "../support/webhook-fixtures";
import { waitFor } from "../support/wait-for";
import { at, customerPayload, orderPayload } from "../support/webhook-payloads";

// Checkouts (issue 17, cart abandoners) through the intake's processing on real PostgreSQL:
// both topics are idempotent, order-free and redacted with the customer; and the abandonment
// rules (completed, became an order, the customer ordered since, the 30-day window) decide
// "Cart abandoners" alike on the live recompute and the refit's pass.

const db = () => testDb();
const MAYA = 7390571233329n;
const CHECKOUT = 38611223344556n;

/** Customers handed to the metrics queue, per delivery (the queue itself is not under test). */
async function deliver(shop: string, topic: string, payload: unknown) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  const handedOff: bigint[] = [];
  const outcome = await processDelivery(db(), id, { enqueueMetrics: async (_shop, ids) => void handedOff.push(...ids) });
  return { id, outcome, handedOff };
}

const checkoutRows = (shop: string) =>
  db().checkout.findMany({ where: { shop }, orderBy: { id: "asc" }, omit: { shop: true } });

interface CheckoutSpec {
  id: number;
  customerId: number | null;
  createdAt: Date;
  updatedAt?: Date;
  completedAt?: Date | null;
  totalPrice?: string;
  email?: string;
}

/** A checkout body of the real shape (the checkouts-create fixture) with these facts. */
function checkoutPayload(spec: CheckoutSpec): Json {
  const payload = fixture("checkouts-create");
  const email = spec.email ?? `customer-${spec.customerId ?? "guest"}@example.com`;
  Object.assign(payload, {
    id: spec.id,
    token: `token-${spec.id}`,
    cart_token: `cart-${spec.id}`,
    name: `#${spec.id}`,
    email,
    created_at: spec.createdAt.toISOString(),
    updated_at: (spec.updatedAt ?? spec.createdAt).toISOString(),
    completed_at: spec.completedAt ? spec.completedAt.toISOString() : null,
    total_price: spec.totalPrice ?? "36.00",
    subtotal_price: spec.totalPrice ?? "36.00",
    abandoned_checkout_url: `https://example.myshopify.com/1/checkouts/ac/cart-${spec.id}/recover?key=k${spec.id}`,
  });
  payload.customer = spec.customerId === null ? null : { ...(payload.customer as Json), id: spec.customerId, admin_graphql_api_id: `gid://shopify/Customer/${spec.customerId}`, email };
  return payload;
}

/** An order of `customerId` placed at `processedAt`, naming the checkout it came from (or none). */
function orderFrom(id: number, customerId: number, processedAt: Date, checkout: { id?: number; token?: string; cart?: string } | null) {
  const payload = orderPayload({ id, customerId, updatedAt: processedAt, processedAt, createdAt: processedAt, totalCents: 3_600 });
  Object.assign(payload, { checkout_id: checkout?.id ?? null, checkout_token: checkout?.token ?? null, cart_token: checkout?.cart ?? null });
  return payload;
}

describe("checkouts through the intake", () => {
  it("stores a checkout in shop money with its recovery link, and a duplicate delivery writes nothing", async () => {
    const shop = uniqueShop("checkout");
    const first = await deliver(shop, "checkouts/create", fixture("checkouts-create"));
    expect(first.outcome).toEqual({ status: "processed", topic: "checkouts/create", customerId: MAYA.toString(), scrubbed: false });
    expect(first.handedOff).toEqual([MAYA]);
    const stored = await checkoutRows(shop);
    expect(stored).toEqual([
      {
        id: CHECKOUT,
        token: "5f1c9e2ab47d4c0e9b8a71d2c3e4f5a6",
        cartToken: "Z2NwLXVzLWVhc3QxOjAxSlJNNkQ0VjhLWjJQN1M1UTNYOUJGNEhE",
        customerId: MAYA,
        email: "maya.okafor@example.com",
        currency: "USD",
        totalPriceMinor: 3_600n,
        subtotalPriceMinor: 3_600n,
        abandonedCheckoutUrl: expect.stringMatching(/\/checkouts\/ac\/.+\/recover\?key=/),
        lineItemCount: 1,
        shopifyCreatedAt: at("2025-04-10T23:42:05Z"),
        shopifyUpdatedAt: at("2025-04-10T23:42:05Z"),
        completedAt: null,
      },
    ]);
    for (const topic of ["checkouts/create", "checkouts/update"]) {
      // The same body again (Shopify retries under a new webhook id): nothing changes, nobody is recomputed.
      const again = await deliver(shop, topic, fixture("checkouts-create"));
      expect(again.outcome.status, topic).toBe("processed");
      expect(again.handedOff, topic).toEqual([]);
      expect(await checkoutRows(shop), topic).toEqual(stored);
    }
  });

  it("is order-free: the update before the create leaves what create then update leave", async () => {
    const [inOrder, reversed] = [uniqueShop("ordered"), uniqueShop("reversed")];
    await deliver(inOrder, "checkouts/create", fixture("checkouts-create"));
    await deliver(inOrder, "checkouts/update", fixture("checkouts-update"));
    await deliver(reversed, "checkouts/update", fixture("checkouts-update"));
    const late = await deliver(reversed, "checkouts/create", fixture("checkouts-create"));
    expect(late.handedOff).toEqual([]);
    const expected = await checkoutRows(inOrder);
    expect(expected[0]).toMatchObject({ totalPriceMinor: 17_187n, lineItemCount: 2, shopifyUpdatedAt: at("2025-04-10T23:47:31Z") });
    expect(await checkoutRows(reversed)).toEqual(expected);
  });

  it("keeps completion final: an older version without completed_at does not undo it", async () => {
    const shop = uniqueShop("completed");
    const created = at("2025-05-01T10:00:00Z");
    const completedAt = at("2025-05-01T10:09:00Z");
    await deliver(shop, "checkouts/update", checkoutPayload({ id: 7, customerId: 70, createdAt: created, updatedAt: completedAt, completedAt }));
    await deliver(shop, "checkouts/update", checkoutPayload({ id: 7, customerId: 70, createdAt: created, updatedAt: at("2025-05-01T10:05:00Z") }));
    expect((await checkoutRows(shop))[0]).toMatchObject({ completedAt, shopifyUpdatedAt: completedAt });
  });

  it("refuses a malformed checkout with the field named, and one in a foreign shop currency, keeping the delivery", async () => {
    const shop = uniqueShop("bad-checkout");
    const bad = await deliver(shop, "checkouts/create", { ...fixture("checkouts-create"), total_price: "36.123" });
    expect(bad.outcome).toMatchObject({ status: "failed", error: expect.stringContaining("36.123") });
    const missing = await deliver(shop, "checkouts/update", { ...fixture("checkouts-create"), updated_at: "yesterday" });
    expect(missing.outcome).toMatchObject({ status: "failed", error: expect.stringContaining("updated_at") });
    const foreign = await deliver(shop, "checkouts/create", { ...fixture("checkouts-create"), currency: "EUR", presentment_currency: "EUR", total_price: "33.10" });
    expect(foreign.outcome).toMatchObject({ status: "failed", error: expect.stringContaining("EUR") });
    expect(await checkoutRows(shop)).toEqual([]);
    const kept = await db().webhookDelivery.findUniqueOrThrow({ where: { id: bad.id } });
    expect(kept).toMatchObject({ status: "FAILED", payload: expect.objectContaining({ id: Number(CHECKOUT) }) });
  });

  it("stores a checkout priced in another currency with its totals unknown rather than converted", async () => {
    const shop = uniqueShop("presentment");
    await deliver(shop, "checkouts/create", { ...fixture("checkouts-create"), presentment_currency: "EUR", total_price: "33.10" });
    expect((await checkoutRows(shop))[0]).toMatchObject({ currency: "USD", totalPriceMinor: null, subtotalPriceMinor: null });
  });

  it("customers/redact deletes the customer's checkouts (guest ones under their email too) and empties both topics' deliveries", async () => {
    const shop = uniqueShop("redact-checkout");
    const create = await deliver(shop, "checkouts/create", fixture("checkouts-create"));
    const update = await deliver(shop, "checkouts/update", fixture("checkouts-update"));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 9, customerId: null, createdAt: at("2025-04-11T10:00:00Z"), email: "maya.okafor@example.com" }));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 10, customerId: 55, createdAt: at("2025-04-11T10:00:00Z") }));
    const pending = await insertDelivery(db(), { shop, topic: "checkouts/update", payload: fixture("checkouts-update") });

    const redaction = await deliver(shop, "customers/redact", { ...fixture("customers-redact"), shop_domain: shop });
    expect(redaction.outcome).toMatchObject({ status: "processed" });
    expect((await checkoutRows(shop)).map((row) => row.id)).toEqual([10n]);
    for (const id of [create.id, update.id, pending]) {
      expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } }), String(id)).toMatchObject({ payload: null, rawBody: null });
    }
    // Shopify retries a checkout delivery after the redaction: nothing comes back.
    const retry = await deliver(shop, "checkouts/update", fixture("checkouts-update"));
    expect(retry.outcome).toMatchObject({ status: "processed", scrubbed: true });
    expect((await checkoutRows(shop)).map((row) => row.id)).toEqual([10n]);
  });

  it("shop/redact deletes every checkout of the shop and the orders' checkout references", async () => {
    const shop = uniqueShop("redact-shop-checkout");
    await deliver(shop, "checkouts/create", fixture("checkouts-create"));
    await deliver(shop, "orders/create", fixture("orders-create"));
    expect(await db().orderCheckout.count({ where: { shop } })).toBe(1);
    await deliver(shop, "shop/redact", { ...fixture("shop-redact"), shop_domain: shop });
    expect(await db().checkout.count({ where: { shop } })).toBe(0);
    expect(await db().orderCheckout.count({ where: { shop } })).toBe(0);
  });
});

// ------------------------------------------------------------------ abandonment

const NOW = new Date("2026-11-20T12:00:00Z");
const daysAgo = (days: number, hour = 12) => new Date(Date.UTC(2026, 10, 20 - days, hour));

async function behavioursOf(shop: string, customerId: bigint): Promise<string[] | null> {
  const row = await db().customerMetrics.findUnique({ where: { shop_customerId: { shop, customerId } }, select: { behaviours: true } });
  return row?.behaviours ?? null;
}

/** Members of "Cart abandoners" as the live recompute sets them, and as the refit's pass sets them. */
async function abandonersBothWays(shop: string, ids: number[], now = NOW): Promise<{ live: number[]; refit: number[] }> {
  const members = async () => {
    const found: number[] = [];
    for (const id of ids) if ((await behavioursOf(shop, BigInt(id)))?.includes("cart-abandoner")) found.push(id);
    return found;
  };
  await recomputeCustomerMetrics(testPool(), shop, ids.map(String), { now });
  const live = await members();
  // The refit's pass, from rows without the behaviour (as the refit's scoring writes them).
  await testPool().query(`UPDATE "CustomerMetrics" SET behaviours = array_remove(behaviours, 'cart-abandoner') WHERE shop = $1`, [shop]);
  const asOfDay = Math.floor(now.getTime() / 86_400_000);
  await refreshCartAbandoners(testPool(), shop, "UTC", asOfDay);
  return { live, refit: await members() };
}

async function customers(shop: string, ids: number[]) {
  for (const id of ids) await deliver(shop, "customers/create", customerPayload(id, at("2026-01-01T00:00:00Z")));
}

describe("cart abandoners", () => {
  it("a checkout completed, or named by an order (id, token or cart token, whichever arrives first), is not abandoned", async () => {
    const shop = uniqueShop("abandon-rules");
    await customers(shop, [1, 2, 3, 4, 5]);
    // 1: abandoned. 2: completed. 3: its order arrived first, naming its token. 4: order after, by checkout id. 5: by cart token.
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 101, customerId: 1, createdAt: daysAgo(3) }));
    await deliver(shop, "checkouts/update", checkoutPayload({ id: 102, customerId: 2, createdAt: daysAgo(3), updatedAt: daysAgo(3, 13), completedAt: daysAgo(3, 13) }));
    // The orders below are customer 9's, so only the checkout they name can take 3, 4 and 5 out.
    await deliver(shop, "orders/create", orderFrom(9003, 9, daysAgo(2), { token: "token-103" }));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 103, customerId: 3, createdAt: daysAgo(3) }));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 104, customerId: 4, createdAt: daysAgo(3) }));
    const order = await deliver(shop, "orders/create", orderFrom(9004, 9, daysAgo(2), { id: 104 }));
    // The checkout's customer leaves the segment with that order: they are recomputed too.
    expect(order.handedOff).toContain(4n);
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 105, customerId: 5, createdAt: daysAgo(3) }));
    await deliver(shop, "orders/create", orderFrom(9005, 9, daysAgo(2), { cart: "cart-105" }));
    expect(await abandonersBothWays(shop, [1, 2, 3, 4, 5])).toEqual({ live: [1], refit: [1] });
  });

  it("a customer who ordered since the checkout started is not an abandoner; an order before it does not count", async () => {
    const shop = uniqueShop("abandon-since");
    await customers(shop, [1, 2]);
    await deliver(shop, "orders/create", orderFrom(2001, 1, daysAgo(10), null));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 201, customerId: 1, createdAt: daysAgo(5) }));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 202, customerId: 2, createdAt: daysAgo(5) }));
    expect(await abandonersBothWays(shop, [1, 2])).toEqual({ live: [1, 2], refit: [1, 2] });
    // Customer 2 orders something else (no checkout named): out, on the live path and in the refit.
    const moved = await deliver(shop, "orders/create", orderFrom(2002, 2, daysAgo(1), null));
    expect(moved.handedOff).toContain(2n);
    expect(await abandonersBothWays(shop, [1, 2])).toEqual({ live: [1], refit: [1] });
  });

  it("the window is the last 30 days: day 29 is in, day 30 is out, and time moves customers out", async () => {
    const shop = uniqueShop("abandon-window");
    await customers(shop, [1, 2]);
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 301, customerId: 1, createdAt: daysAgo(29) }));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 302, customerId: 2, createdAt: daysAgo(30) }));
    expect(await abandonersBothWays(shop, [1, 2])).toEqual({ live: [1], refit: [1] });
    const dayLater = new Date(NOW.getTime() + 86_400_000);
    expect(await abandonersBothWays(shop, [1, 2], dayLater)).toEqual({ live: [], refit: [] });
  });

  it("a customer without orders is a cart abandoner too, and a checkout of a customer not yet stored counts once they are", async () => {
    const shop = uniqueShop("abandon-new");
    const early = await deliver(shop, "checkouts/create", checkoutPayload({ id: 401, customerId: 40, createdAt: daysAgo(1) }));
    expect(early.handedOff).toEqual([40n]);
    await recomputeCustomerMetrics(testPool(), shop, ["40"], { now: NOW });
    expect(await behavioursOf(shop, 40n)).toBeNull(); // no Customer row yet: no metrics row
    await customers(shop, [40]);
    expect(await abandonersBothWays(shop, [40])).toEqual({ live: [40], refit: [40] });
  });
});

describe("checkouts and their order, in any arrival order", () => {
  const events = (shop: string) => [
    () => deliver(shop, "checkouts/create", checkoutPayload({ id: 601, customerId: 60, createdAt: daysAgo(4) })),
    () => deliver(shop, "checkouts/update", checkoutPayload({ id: 601, customerId: 60, createdAt: daysAgo(4), updatedAt: daysAgo(4, 13) })),
    () => deliver(shop, "orders/create", orderFrom(6001, 61, daysAgo(3), { token: "token-601" })),
    () => deliver(shop, "customers/create", customerPayload(60, at("2026-01-01T00:00:00Z"))),
  ];
  const permutations = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2], [2, 1, 0, 3]];

  it.each(permutations.map((order) => [order.join(",")]))("leave the same rows and the same membership (%s)", async (order) => {
    const reference = uniqueShop("co-ref");
    for (const apply of events(reference)) await apply();
    const shop = uniqueShop("co-perm");
    const steps = events(shop);
    for (const index of order.split(",").map(Number)) await steps[index]();
    expect(await checkoutRows(shop)).toEqual(await checkoutRows(reference));
    const references = (s: string) => db().orderCheckout.findMany({ where: { shop: s }, omit: { shop: true } });
    expect(await references(shop)).toEqual(await references(reference));
    // Named by customer 61's order: customer 60 is not an abandoner, whatever came first.
    expect(await abandonersBothWays(shop, [60])).toEqual({ live: [], refit: [] });
  });
});

describe("cart abandoners in the refit and on the segment page", () => {
  it("the refit sets the behaviour, counts the segment (customers without orders too), and the page sums each member's latest cart", async () => {
    const shop = uniqueShop("abandon-refit");
    await customers(shop, [1, 2, 3, 4]);
    for (const id of [1, 2, 3]) await deliver(shop, "orders/create", orderFrom(5000 + id, id, daysAgo(60), null));
    // 1: two abandoned checkouts (the latest counts once). 2: abandoned, priced in EUR. 3: bought since. 4: no orders, abandoned.
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 501, customerId: 1, createdAt: daysAgo(6), totalPrice: "20.00" }));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 502, customerId: 1, createdAt: daysAgo(2), totalPrice: "50.00" }));
    await deliver(shop, "checkouts/create", { ...checkoutPayload({ id: 503, customerId: 2, createdAt: daysAgo(3) }), presentment_currency: "EUR" });
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 504, customerId: 3, createdAt: daysAgo(9) }));
    await deliver(shop, "orders/create", orderFrom(5103, 3, daysAgo(8), null));
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 505, customerId: 4, createdAt: daysAgo(1), totalPrice: "12.50" }));
    // Too old to count (past the window and its margin): the refit prunes it.
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 506, customerId: 4, createdAt: daysAgo(CART_ABANDONMENT_WINDOW_DAYS + CHECKOUT_RETENTION_MARGIN_DAYS + 1) }));

    // The live path has written each customer's row (as the metrics queue would after these deliveries).
    await recomputeCustomerMetrics(testPool(), shop, ["1", "2", "3", "4"], { now: NOW });
    // The refit rescores everyone from their orders, then its pass sets the behaviour from the checkouts.
    await refitShop(testPool(), shop, { trigger: "manual", now: NOW });
    const members = await db().customerMetrics.findMany({
      where: { shop, behaviours: { has: "cart-abandoner" } },
      select: { customerId: true },
      orderBy: { customerId: "asc" },
    });
    expect(members.map((m) => m.customerId)).toEqual([1n, 2n, 4n]);
    expect((await checkoutRows(shop)).map((row) => row.id)).toEqual([501n, 502n, 503n, 504n, 505n]);
    const segments = await testPool().query<{ data: { rows: { kind: string; key: string; customers: number }[] } }>(
      `SELECT data FROM "ShopAggregate" WHERE shop = $1 AND kind = 'segments'`,
      [shop],
    );
    expect(segments.rows[0].data.rows.find((row) => row.key === "cart-abandoner")).toMatchObject({ kind: "behaviour", customers: 3 });

    const view = await loadAbandonedCarts(testPool(), shop, ["1", "2", "3", "4"], NOW);
    expect(view.summary).toEqual({ customers: 3, valueMinor: 5_000 + 1_250, unpricedCustomers: 1 });
    expect(Object.keys(view.carts).sort()).toEqual(["1", "2", "4"]);
    expect(view.carts["1"]).toMatchObject({ totalPriceMinor: 5_000, abandonedCheckoutUrl: expect.stringContaining("cart-502/recover") });
    expect(view.adminUrl).toMatch(/^https:\/\/admin\.shopify\.com\/store\/.+\/checkouts$/);
  });
});

// ------------------------------------------------------------------ review of issue 17 (findings 2, 7, 11)

describe("checkout lookups, pruning and redaction (review 17)", () => {
  it("an order's checkout lookup probes the (shop, id), (shop, token) and (shop, cartToken) indexes, not a scan", async () => {
    const shop = uniqueShop("lookup-plan");
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 801, customerId: 80, createdAt: daysAgo(2) }));
    const query = checkoutOwnersSql(shop, { checkoutId: 801n, checkoutToken: "token-801", cartToken: "cart-801" });
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      // A shop with many checkouts (rolled back after), counted by ANALYZE, so the planner weighs real costs.
      await client.query(
        `INSERT INTO "Checkout" (shop, id, token, "cartToken", "customerId", "shopifyCreatedAt", "shopifyUpdatedAt")
         SELECT $1, 10000 + n, 'token-x' || n, 'cart-x' || n, n, now(), now() FROM generate_series(1, 20000) AS n`,
        [shop],
      );
      await client.query(`ANALYZE "Checkout"`);
      const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${query.text}`, query.values as unknown[]);
      const text = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
      expect(text).not.toMatch(/Seq Scan/);
      // Each probe is an index condition on its own column, not a filter over the shop's checkouts.
      for (const column of ["id", "token", '"cartToken"']) expect(text).toMatch(new RegExp(`Index Cond: \\(\\(shop = .*\\) AND \\(${column} = `));
      const owners = await client.query<{ customerId: string }>(query.text, query.values as unknown[]);
      expect(owners.rows.map((row) => String(row.customerId))).toEqual(["80"]);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });

  it("pruning deletes checkouts older than the window and a margin, and completed or guest ones once settled", async () => {
    const shop = uniqueShop("prune");
    const asOfDay = Math.floor(NOW.getTime() / 86_400_000);
    const old = CART_ABANDONMENT_WINDOW_DAYS + CHECKOUT_RETENTION_MARGIN_DAYS;
    const settled = SETTLED_CHECKOUT_KEEP_DAYS + 1;
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 901, customerId: 90, createdAt: daysAgo(old + 1) })); // too old: goes
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 902, customerId: 90, createdAt: daysAgo(old - 1) })); // kept
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 903, customerId: 90, createdAt: daysAgo(settled), completedAt: daysAgo(settled) })); // goes
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 904, customerId: 90, createdAt: daysAgo(1), completedAt: daysAgo(1) })); // not settled: kept
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 905, customerId: null, createdAt: daysAgo(settled) })); // guest: goes
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 906, customerId: null, createdAt: daysAgo(1) })); // guest, recent: kept
    const other = uniqueShop("prune-other");
    await deliver(other, "checkouts/create", checkoutPayload({ id: 901, customerId: 90, createdAt: daysAgo(old + 1) }));
    expect(await pruneCheckouts(testPool(), shop, asOfDay)).toBe(3);
    expect((await checkoutRows(shop)).map((row) => row.id)).toEqual([902n, 904n, 906n]);
    expect(await checkoutRows(other)).toHaveLength(1);
    // A late, older version of the completed checkout 904 still finds its completion.
    await deliver(shop, "checkouts/update", checkoutPayload({ id: 904, customerId: 90, createdAt: daysAgo(1), updatedAt: daysAgo(1, 11) }));
    expect((await checkoutRows(shop)).find((row) => row.id === 904n)?.completedAt).not.toBeNull();
  });

  it("customers/redact deletes guest checkouts under the request's or the stored address in any case, and keeps later ones out", async () => {
    const shop = uniqueShop("redact-email");
    await deliver(shop, "customers/create", customerPayload(Number(MAYA), at("2025-04-01T00:00:00Z"), { email: "Maya.Work@Example.com" }));
    const guest = (id: number, email: string) => checkoutPayload({ id, customerId: null, createdAt: at("2025-04-11T10:00:00Z"), email });
    const guestDeliveries = [
      await deliver(shop, "checkouts/create", guest(11, "MAYA.OKAFOR@example.com")), // the request's address, other case
      await deliver(shop, "checkouts/create", guest(12, "maya.work@example.com")), // the stored address only
    ];
    const stranger = await deliver(shop, "checkouts/create", guest(13, "someone.else@example.com"));
    await deliver(shop, "customers/redact", { ...fixture("customers-redact"), shop_domain: shop });
    expect((await checkoutRows(shop)).map((row) => row.id)).toEqual([13n]);
    // Their deliveries are emptied too (matched by either address, in any case); the stranger's is kept.
    for (const { id } of guestDeliveries) {
      expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } }), String(id)).toMatchObject({ payload: null, rawBody: null });
    }
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id: stranger.id } })).toMatchObject({ payload: expect.objectContaining({ id: 13 }) });
    // The tombstones hold hashes, never an address.
    const tombstones = await db().tombstone.findMany({ where: { shop, resource: "customer-email" } });
    expect(tombstones.map((t) => t.id).sort()).toEqual([emailTombstoneId("maya.okafor@example.com"), emailTombstoneId("maya.work@example.com")].sort());
    // A guest checkout under either address arriving after the redaction is not stored, and its delivery is emptied.
    for (const [id, email] of [[14, " Maya.Okafor@Example.com"], [15, "MAYA.WORK@example.com"]] as const) {
      const late = await deliver(shop, "checkouts/create", guest(id, email));
      expect(late.outcome, email).toMatchObject({ status: "processed", scrubbed: true });
    }
    await deliver(shop, "checkouts/create", guest(16, "someone.else@example.com"));
    expect((await checkoutRows(shop)).map((row) => row.id)).toEqual([13n, 16n]);
  });

  it("reads the checkout's stored customer under its lock: a write committed meanwhile is seen, and its customer recomputed", async () => {
    const shop = uniqueShop("checkout-lock");
    const created = daysAgo(3);
    await deliver(shop, "checkouts/create", checkoutPayload({ id: 701, customerId: 71, createdAt: created }));
    const later = checkoutPayload({ id: 701, customerId: 73, createdAt: created, updatedAt: daysAgo(3, 14) });
    const deliveryId = await insertDelivery(db(), { shop, topic: "checkouts/update", payload: later });
    // Another writer of checkout 701 in flight: it holds the checkout's and customer 71's locks and moves the checkout to 72.
    const other = await testPool().connect();
    try {
      await other.query("BEGIN");
      await other.query(
        `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0)), pg_advisory_xact_lock(hashtextextended($3, 0))`,
        [`tenure:shop-import:${shop}`, `tenure:checkout:${shop}:701`, `tenure:customer:${shop}:71`],
      );
      await other.query(`UPDATE "Checkout" SET "customerId" = 72, "shopifyUpdatedAt" = $2 WHERE shop = $1 AND id = 701`, [shop, daysAgo(3, 13)]);
      const handedOff: bigint[] = [];
      const processing = processDelivery(db(), deliveryId, { enqueueMetrics: async (_shop, ids) => void handedOff.push(...ids) });
      await waitFor(async () => {
        const waiting = await testPool().query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        return waiting.rows.length > 0;
      }, 20_000, "the delivery to wait for a lock");
      await other.query("COMMIT");
      await processing;
      // 72 had the checkout when this write took it: 72 leaves the segment and is recomputed (71 was read before the lock without the fix).
      expect(handedOff.sort()).toEqual([72n, 73n]);
    } finally {
      await other.query("ROLLBACK").catch(() => undefined);
      other.release();
    }
    expect((await checkoutRows(shop))[0]).toMatchObject({ customerId: 73n });
  });
});
