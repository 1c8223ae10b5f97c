import { afterAll, beforeAll, vi } from "vitest";
import { dayIndex } from "~/analytics/dates";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { refitShop } from "~/refit/refit.server";
import { type CustomerListRow, decodeCursor } from "~/pages/customer-list";
import { listCustomers } from "~/pages/customer-list.server";
import { loadCustomer } from "~/pages/customer.server";
import { loadDashboard } from "~/pages/dashboard.server";
import { type KpiFigure, kpiFigures } from "~/pages/dashboard";
import { moneyBasisOf } from "~/pages/money-basis";
import { money, percent } from "~/display/format";
import { loadSegment, loadSegmentsOverview } from "~/pages/segments.server";
import { uniqueShop, testPool } from "../support/db";
import { insertSyntheticShop } from "../refit/synthetic-shop";

// The dashboard, segment and customer pages' data on shops the real refit has scored: what
// the pages show agrees with the stored rows, another shop's rows never show, and unknown
// segments and customers (including another shop's) are not found, through the route
// loaders too (404).

const AS_OF_ISO = "2026-06-30";
const AS_OF = dayIndex(AS_OF_ISO);
const NOW = new Date(`${AS_OF_ISO}T15:00:00Z`);
const CUSTOMERS = 400;
/** The other shop's customer ids start here, so some ids exist only there. */
const OTHER_FIRST_ID = 1_000_000;

const shop = uniqueShop("pages");
const other = uniqueShop("pages-other");
const empty = uniqueShop("pages-empty");

async function allPages(query: Parameters<typeof listCustomers>[2], forShop = shop): Promise<CustomerListRow[]> {
  const rows: CustomerListRow[] = [];
  let after = null;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await listCustomers(testPool(), forShop, { ...query, after, pageSize: 100 });
    rows.push(...page.rows);
    if (!page.next) return rows;
    after = decodeCursor(page.next);
  }
  throw new Error("paging did not end");
}

beforeAll(async () => {
  const pool = testPool();
  await insertSyntheticShop(pool, { shop, customers: CUSTOMERS, asOfDay: AS_OF, seed: 11 });
  // Overlapping ids (1..200) and ids only this shop has.
  await insertSyntheticShop(pool, { shop: other, customers: 200, asOfDay: AS_OF, seed: 12 });
  await insertSyntheticShop(pool, { shop: other, customers: 5, asOfDay: AS_OF, seed: 13, firstCustomerId: OTHER_FIRST_ID });
  const [report] = await Promise.all([refitShop(pool, shop, { trigger: "manual", now: NOW }), refitShop(pool, other, { trigger: "manual", now: NOW })]);
  expect(report.status).toBe("ready");
  // Segment changes: the other shop's are newer, so a query without the shop filter would show them first.
  await pool.query(
    `INSERT INTO "SegmentTransition" (shop, "customerId", "fromSegment", "toSegment", at, source)
     VALUES ($1, 1, 'loyal', 'at-risk', '2026-06-30 16:00', 'live'), ($1, 2, 'new', 'promising', '2026-06-30 17:00', 'live'),
            ($2, 1, 'champions', 'lost', '2026-06-30 20:00', 'live'), ($2, ${OTHER_FIRST_ID}, 'new', 'lost', '2026-06-30 21:00', 'live')`,
    [shop, other],
  );
});

describe("loadDashboard", () => {
  it("shows the shop's own aggregates and segment changes, newest first", async () => {
    const dashboard = await loadDashboard(testPool(), shop);
    const counted = await testPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM "CustomerMetrics" WHERE shop = $1 AND orders > 0`, [shop]);
    expect(dashboard.fit.status).toBe("ready");
    expect(dashboard.kpis?.customers.value).toBe(counted.rows[0].n);
    expect(dashboard.kpis?.asOfIso).toBe(AS_OF_ISO);
    expect(dashboard.segments?.customers).toBe(counted.rows[0].n);
    expect(dashboard.latestTransitions.map((t) => [t.customerId, t.fromName, t.toName])).toEqual([
      ["2", "New", "Promising"],
      ["1", "Loyal", "At risk"],
    ]);
    expect(dashboard.movements).not.toBeNull();
    const otherDashboard = await loadDashboard(testPool(), other);
    expect(otherDashboard.kpis?.customers.value).not.toBe(dashboard.kpis?.customers.value);
    expect(otherDashboard.latestTransitions.map((t) => t.customerId)).toEqual([String(OTHER_FIRST_ID), "1"]);
  });

  it("says a shop that was never analysed has nothing yet, rather than failing", async () => {
    const dashboard = await loadDashboard(testPool(), empty);
    expect(dashboard).toMatchObject({ kpis: null, segments: null, movements: null, latestTransitions: [], computedAtIso: null });
    expect(dashboard.fit).toMatchObject({ status: null, backfill: null });
  });

  it("names segments with the merchant's labels", async () => {
    await testPool().query(
      `INSERT INTO "ShopSettings" (shop, "segmentLabels", "excludedOrderTags", "excludedSourceNames", "updatedAt")
       VALUES ($1, '{"at-risk": "Slipping VIPs"}', '{}', '{}', now())`,
      [other],
    );
    const dashboard = await loadDashboard(testPool(), other);
    expect(dashboard.latestTransitions.find((t) => t.customerId === "1")?.toName).toBe("Lost");
    expect(dashboard.segments?.rows.find((row) => row.key === "at-risk")?.name).toBe("Slipping VIPs");
    expect((await loadDashboard(testPool(), shop)).segments?.rows.find((row) => row.key === "at-risk")?.name).toBe("At risk");
  });
});

describe("the dashboard's key figures: one money basis, names with their horizon (issue 13)", () => {
  it("shows every amount as revenue or every one as profit, labelled so, moving together with the toggle", async () => {
    const dashboard = await loadDashboard(testPool(), shop);
    const margin = 0.6;
    const revenue = kpiFigures(dashboard, moneyBasisOf(new URLSearchParams(), margin));
    const profit = kpiFigures(dashboard, moneyBasisOf(new URLSearchParams({ basis: "profit" }), margin));
    const amounts = (figures: KpiFigure[]) => figures.filter((f) => f.money);
    expect(amounts(revenue).map((f) => f.label)).toEqual([
      "Average order value (revenue)",
      "Avg spent to date (revenue)",
      "Avg expected spend, next 12 months (revenue)",
      "Avg lifetime value (revenue)",
      "Revenue, last 30 days",
    ]);
    expect(amounts(profit).map((f) => f.label)).toEqual([
      "Average order value (profit)",
      "Avg spent to date (profit)",
      "Avg expected spend, next 12 months (profit)",
      "Avg lifetime value (profit)",
      "Profit, last 30 days",
    ]);
    const k = dashboard.kpis!;
    const stored = [k.aovMinor.value, k.averageHistoricClvMinor.value, k.averagePredictedClvMinor.value, k.averageLifetimeValueMinor!.value, k.periodNetRevenueMinor.value];
    expect(stored.every((v) => v !== null && v > 0)).toBe(true);
    expect(amounts(revenue).map((f) => f.value)).toEqual(stored.map((v) => money(v, dashboard.currency)));
    expect(amounts(profit).map((f) => f.value)).toEqual(stored.map((v) => money(Math.round(v! * margin), dashboard.currency)));
    // Figures that are not money do not change; without a margin there is no toggle and no basis in the labels.
    expect(revenue.filter((f) => !f.money)).toEqual(profit.filter((f) => !f.money));
    const noMargin = kpiFigures(dashboard, moneyBasisOf(new URLSearchParams({ basis: "profit" }), 1));
    expect(amounts(noMargin).map((f) => f.label)).toContain("Avg spent to date");
    expect(amounts(noMargin).map((f) => f.value)).toEqual(amounts(revenue).map((f) => f.value));
  });

  it("shows the average chance of ordering in the next 90 days, not P(alive)", async () => {
    const dashboard = await loadDashboard(testPool(), shop);
    expect(dashboard.averageChanceOfOrder90d).toBeGreaterThan(0);
    expect(dashboard.averageChanceOfOrder90d).toBeLessThan(1);
    const figure = kpiFigures(dashboard, moneyBasisOf(new URLSearchParams(), 1)).find((f) => f.term === "chance-of-ordering-90d");
    expect(figure?.value).toBe(percent(dashboard.averageChanceOfOrder90d, 0));
    const rfm = dashboard.segments!.rows.filter((row) => row.kind === "rfm" && row.customers > 0);
    expect(rfm.every((row) => typeof row.averageChanceOfOrder90d === "number")).toBe(true);
  });
});

describe("the dashboard's averages over customers with a prediction (issue 13)", () => {
  it("averages the chance of ordering over customers who have one, and lifetime value's two parts over the same customers", async () => {
    const pool = testPool();
    const voidedShop = uniqueShop("pages-voided");
    await insertSyntheticShop(pool, { shop: voidedShop, customers: CUSTOMERS, asOfDay: AS_OF, seed: 11 });
    // One-order customers whose order was cancelled: they keep a segment but get no chance or prediction.
    await pool.query(
      `UPDATE "Order" SET "cancelledAt" = "processedAt", "netMinor" = 0, "netSalesMinor" = 0
       WHERE shop = $1 AND "customerId" IN (
         SELECT "customerId" FROM "Order" WHERE shop = $1 GROUP BY "customerId" HAVING count(*) = 1 ORDER BY "customerId" LIMIT 60)`,
      [voidedShop],
    );
    expect((await refitShop(pool, voidedShop, { trigger: "manual", now: NOW })).status).toBe("ready");
    const { rows } = await pool.query<{ chance: number; unscored: number; lifetime: string }>(
      `SELECT avg("chanceOfOrder90d") AS chance,
              count(*) FILTER (WHERE "chanceOfOrder90d" IS NULL AND segment IS NOT NULL)::int AS unscored,
              round(avg("netSpentMinor" + "predictedClvMinor"))::text AS lifetime
       FROM "CustomerMetrics" WHERE shop = $1 AND orders > 0`,
      [voidedShop],
    );
    expect(rows[0].unscored).toBeGreaterThan(0);
    const dashboard = await loadDashboard(pool, voidedShop);
    expect(dashboard.averageChanceOfOrder90d).toBeCloseTo(rows[0].chance, 9);
    expect(dashboard.kpis?.averageLifetimeValueMinor?.value).toBe(Number(rows[0].lifetime));
    const figure = kpiFigures(dashboard, moneyBasisOf(new URLSearchParams(), 1)).find((f) => f.term === "lifetime-value");
    expect(figure?.value).toBe(money(Number(rows[0].lifetime), dashboard.currency));
  });
});

describe("segments", () => {
  it("lists RFM and behavioural segments whose sizes match the stored rows", async () => {
    const overview = await loadSegmentsOverview(testPool(), shop);
    const rows = overview.segments!.rows;
    expect(rows.some((row) => row.kind === "rfm")).toBe(true);
    expect(rows.some((row) => row.kind === "behaviour")).toBe(true);
    const stored = await testPool().query<{ segment: string; n: number }>(
      `SELECT segment, count(*)::int AS n FROM "CustomerMetrics" WHERE shop = $1 AND segment IS NOT NULL GROUP BY segment`,
      [shop],
    );
    for (const { segment, n } of stored.rows) expect(rows.find((row) => row.kind === "rfm" && row.key === segment)?.customers, segment).toBe(n);
  });

  it("describes an RFM segment's rule in words, with its action, and pages through exactly its customers", async () => {
    const overview = await loadSegmentsOverview(testPool(), shop);
    const largest = overview.segments!.rows.filter((row) => row.kind === "rfm").sort((a, b) => b.customers - a.customers)[0];
    const detail = (await loadSegment(testPool(), shop, largest.key))!;
    const definition = Object.values(SEGMENT_DEFINITIONS).find((d) => d.key === largest.key)!;
    expect(detail).toMatchObject({ kind: "rfm", key: largest.key, name: definition.name, action: definition.action });
    expect(detail.rule[0]).toMatch(/^Customers with R /);
    expect(detail.row?.customers).toBe(largest.customers);
    const customers = await allPages({ sort: "predictedClv", direction: "desc", segment: largest.key });
    expect(customers).toHaveLength(largest.customers);
    expect(new Set(customers.map((c) => c.id)).size).toBe(largest.customers);
    expect(customers.every((c) => c.segment === largest.key)).toBe(true);
    const clv = customers.map((c) => c.predictedClvMinor ?? -1);
    expect(clv).toEqual([...clv].sort((a, b) => b - a));

    const champions = (await loadSegment(testPool(), shop, "champions"))!;
    expect(champions.rule[0]).toBe("Customers with R 5 and (F+M)/2 from 4 to 5.");
  });

  it("fills a behavioural segment's thresholds in, in the shop's currency", async () => {
    const detail = (await loadSegment(testPool(), shop, "big-spender"))!;
    expect(detail.kind).toBe("behaviour");
    expect(detail.rule.join(" ")).toMatch(/spent to date of at least \$[\d,]+\.\d\d \(revenue\)/);
    const members = await allPages({ sort: "netSpent", direction: "desc", behaviour: "big-spender" });
    expect(members.length).toBe(detail.row?.customers);
  });

  it("does not know segment keys that are not segments", async () => {
    for (const key of ["", "vip-and-more", "Champions", "../customers", "segment"]) expect(await loadSegment(testPool(), shop, key), key).toBeNull();
  });
});

describe("loadCustomer", () => {
  it("gives one customer's timeline, scores and P(alive) over time from the stored model", async () => {
    const best = (await listCustomers(testPool(), shop, { sort: "orders", direction: "desc", pageSize: 1 })).rows[0];
    const customer = (await loadCustomer(testPool(), shop, best.id))!;
    expect(customer.metrics?.orders).toBe(best.orders);
    expect(customer.orders).toHaveLength(Math.min(best.orders, 100));
    expect(customer.storedOrders).toBe(best.orders);
    const times = customer.orders.map((o) => o.processedAtIso);
    expect(times).toEqual([...times].sort().reverse());
    expect(customer.prediction).toMatchObject({ status: "ready", fitAsOfIso: AS_OF_ISO });
    expect(customer.prediction.assumptions).toMatchObject({ horizonDays: 365, annualDiscountRate: 0.1, grossMargin: 1 });
    const history = customer.pAliveHistory;
    expect(history.length).toBeGreaterThan(2);
    expect(history.every((point) => point.pAlive >= 0 && point.pAlive <= 1)).toBe(true);
    expect(history.at(-1)!.dayIso).toBe(AS_OF_ISO);
    // The last point is today's P(alive): the one the refit stored, from the same model and orders.
    expect(history.at(-1)!.pAlive).toBeCloseTo(customer.metrics!.pAlive!, 9);
  });

  it("does not find another shop's customer, or an id that is not one", async () => {
    expect(await loadCustomer(testPool(), other, String(OTHER_FIRST_ID))).not.toBeNull();
    expect(await loadCustomer(testPool(), shop, String(OTHER_FIRST_ID))).toBeNull();
    for (const id of ["", "abc", "1.5", "-1", "99999999999999999999", "9223372036854775808"]) expect(await loadCustomer(testPool(), shop, id), id).toBeNull();
  });

  it("shows the same id's own data in each shop", async () => {
    const mine = (await loadCustomer(testPool(), shop, "1"))!;
    const theirs = (await loadCustomer(testPool(), other, "1"))!;
    expect(mine.transitions.map((t) => t.to)).toEqual(["at-risk"]);
    expect(theirs.transitions.map((t) => t.to)).toEqual(["lost"]);
    const mineOrders = await testPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM "Order" WHERE shop = $1 AND "customerId" = 1`, [shop]);
    expect(mine.storedOrders).toBe(mineOrders.rows[0].n);
  });
});

describe("route loaders (demo mode, the refitted shop as the demo shop)", () => {
  type Loader = (args: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;
  let routes: Record<string, { loader: Loader }>;
  let closePool: () => Promise<void>;
  const saved = { mode: process.env.TENURE_DEMO_MODE, shop: process.env.TENURE_DEMO_SHOP };

  beforeAll(async () => {
    vi.resetModules();
    process.env.TENURE_DEMO_MODE = "true";
    process.env.TENURE_DEMO_SHOP = shop;
    routes = {
      dashboard: await import("~/routes/app._index"),
      segments: await import("~/routes/app.segments._index"),
      segment: await import("~/routes/app.segments.$key"),
      customers: await import("~/routes/app.customers._index"),
      customer: await import("~/routes/app.customers.$id"),
    } as unknown as typeof routes;
    ({ closePgPool: closePool } = await import("~/db/pg.server"));
  });
  afterAll(async () => {
    await closePool?.();
    process.env.TENURE_DEMO_MODE = saved.mode;
    if (saved.shop === undefined) delete process.env.TENURE_DEMO_SHOP;
    else process.env.TENURE_DEMO_SHOP = saved.shop;
    vi.resetModules();
  });

  const call = async (name: string, path: string, params: Record<string, string> = {}) => {
    try {
      return { data: await routes[name].loader({ request: new Request(`https://tenure.test${path}`), params, context: {} }) };
    } catch (thrown) {
      if (thrown instanceof Response) return { status: thrown.status, text: await thrown.text() };
      throw thrown;
    }
  };

  it("answers 404 for an unknown segment key or a customer of another shop, with words to show", async () => {
    expect(await call("segment", "/app/segments/royalty", { key: "royalty" })).toEqual({ status: 404, text: 'There is no segment called "royalty".' });
    expect(await call("customer", `/app/customers/${OTHER_FIRST_ID}`, { id: String(OTHER_FIRST_ID) })).toMatchObject({ status: 404 });
    expect(await call("customer", "/app/customers/abc", { id: "abc" })).toMatchObject({ status: 404 });
  });

  it("serves every page of the demo shop, the table's state from the URL", async () => {
    for (const [name, path, params] of [
      ["dashboard", "/app", {}],
      ["segments", "/app/segments", {}],
      ["segment", "/app/segments/big-spender", { key: "big-spender" }],
      ["customers", "/app/customers", {}],
      ["customer", "/app/customers/1", { id: "1" }],
    ] as const) {
      const result = await call(name, path, params);
      expect(result, name).toHaveProperty("data");
      expect(JSON.stringify(result), name).not.toContain(other);
    }
    const first = (await call("customers", "/app/customers?sort=orders&dir=asc&pageSize=7&segment=loyal")) as {
      data: { page: { rows: CustomerListRow[]; next: string | null }; sort: string; direction: string; problems: string[] };
    };
    expect(first.data).toMatchObject({ sort: "orders", direction: "asc", problems: [] });
    expect(first.data.page.rows).toHaveLength(7);
    expect(first.data.page.rows.every((row) => row.segment === "loyal")).toBe(true);
    const second = (await call("customers", `/app/customers?sort=orders&dir=asc&pageSize=7&segment=loyal&after=${first.data.page.next}`)) as typeof first;
    const ids = new Set(first.data.page.rows.map((row) => row.id));
    expect(second.data.page.rows.some((row) => ids.has(row.id))).toBe(false);
    expect(second.data.page.rows[0].orders).toBeGreaterThanOrEqual(first.data.page.rows[6].orders);
    const bad = (await call("customers", "/app/customers?sort=height&minClv=abc")) as typeof first;
    expect(bad.data.problems).toHaveLength(2);
  });
});
