import { describe, expect, it } from "vitest";
import { type CustomerOrderFact, customerFactsFromOrders, customerMetrics } from "~/analytics/customer-metrics";
import { dayToIso } from "~/analytics/dates";
import { recomputeCustomerMetrics } from "~/metrics/recompute.server";
import { refitShop } from "~/refit/refit.server";
import {
  type BacktestAggregate,
  type KpisAggregate,
  type MovementsAggregate,
  type RetentionAggregate,
  type SegmentsAggregate,
  retentionKind,
} from "~/data/aggregates";
import { loadStoredFit, scoringContextOf } from "~/data/shop-fit.server";
import { countedOrdersParams, countedOrdersSql } from "~/data/counted-orders.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { redactCustomer, redactShop } from "~/ingest/gdpr.server";
import { testDb, uniqueShop } from "../support/db";
import { insertSyntheticShop } from "./synthetic-shop";
import { AS_OF, AS_OF_ISO, NOW, WRITE_PATHS, aggregate, countedTotals, fitRow, landOrder, metricsRows, nextDay, pool } from "./refit-fixtures";

describe.each(WRITE_PATHS)("%s", (_path, rebuildFromCustomers) => {
  describe("refit of a shop with too little data", () => {
    it("writes metrics without the model's predictions, with the estimate from averages, and stores why", async () => {
      const shop = uniqueShop("thin");
      await insertSyntheticShop(pool, { shop, customers: 12, asOfDay: AS_OF });
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW });
      expect(report).toMatchObject({ status: "no-predictions", reasonCode: "too-few-customers", version: 1, customers: 12 });

      const fit = await fitRow(shop);
      expect(fit).toMatchObject({ status: "no-predictions", reasonCode: "too-few-customers" });
      expect(fit.reason).toMatch(/12 customers/);
      const rows = await metricsRows(shop);
      expect(rows).toHaveLength(12);
      for (const row of rows) {
        expect(row.orders).toBeGreaterThan(0);
        expect(row.segment).not.toBeNull(); // RFM needs no model
        expect(row.pAlive).toBeNull();
        // Expected spend from the shop's averages, the same for everyone (tests/refit/estimate-from-averages.test.ts).
        expect(row.predictedClvMinor).toBe(rows[0].predictedClvMinor);
        expect(row.modelVersion).toBeNull();
      }
      const backtest = await aggregate<BacktestAggregate>(shop, "backtest");
      expect(backtest.result).toBeNull();
      expect(backtest.note).toMatch(/no predictions/);
      const kpis = await aggregate<KpisAggregate>(shop, "kpis");
      expect(kpis.averagePredictedClvMinor.value).toBe(Number(rows[0].predictedClvMinor));
      expect(kpis.customers.value).toBe(12);
    });

    it("a shop with no orders at all gets a fit row and empty aggregates, not an error", async () => {
      const shop = uniqueShop("empty");
      await pool.query(`INSERT INTO "Shop" (domain, "updatedAt") VALUES ($1, now())`, [shop]);
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW });
      expect(report).toMatchObject({ status: "no-predictions", customers: 0, orders: 0 });
      const segments = await aggregate<SegmentsAggregate>(shop, "segments");
      expect(segments.customers).toBe(0);
      expect(segments.tableCustomers).toBe(0);
      expect((await aggregate<BacktestAggregate>(shop, "backtest")).note).toBe("no orders yet");
    });
  });

  describe("refit of a shop with enough data", () => {
    const shop = uniqueShop("full");
    const CUSTOMERS = 1_500;

    beforeAll(async () => {
      await insertSyntheticShop(pool, { shop, customers: CUSTOMERS, asOfDay: AS_OF, seed: 3 });
    });

    it("fits, writes every customer a row and aggregates that agree with the rows", async () => {
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "backfill", now: NOW, batchSize: 400 });
      const totals = await countedTotals(shop);
      expect(report).toMatchObject({ status: "ready", version: 1, asOfDay: AS_OF, customers: totals.customers, orders: totals.orders });
      expect(report.changedDuringRefit).toBe(0); // nothing changed: every row from the one read
      expect(totals.customers).toBe(CUSTOMERS);

      const rows = await metricsRows(shop);
      expect(rows).toHaveLength(CUSTOMERS);
      expect(rows.every((r) => r.modelVersion === 1 && r.pAlive !== null && r.segment !== null && r.asOfDay === AS_OF)).toBe(true);
      const rowsNet = rows.reduce((sum, r) => sum + Number(r.netSpentMinor), 0);
      expect(rowsNet).toBe(totals.net);

      const segments = await aggregate<SegmentsAggregate>(shop, "segments");
      expect(segments.customers).toBe(CUSTOMERS);
      // The unfiltered customer table's "of N" on a shop too large to count per page load.
      expect(segments.tableCustomers).toBe(rows.length);
      expect(segments.netSpentMinor).toBe(totals.net);
      const rfm = segments.rows.filter((r) => r.kind === "rfm");
      expect(rfm.reduce((sum, r) => sum + r.customers, 0)).toBe(CUSTOMERS);
      expect(rfm.reduce((sum, r) => sum + r.netSpentMinor, 0)).toBe(totals.net);
      for (const segmentRow of rfm) {
        expect(segmentRow.customers).toBe(rows.filter((r) => r.segment === segmentRow.key).length);
      }
      for (const behaviour of segments.rows.filter((r) => r.kind === "behaviour")) {
        expect(behaviour.customers).toBe(rows.filter((r) => r.behaviours.includes(behaviour.key)).length);
      }

      const kpis = await aggregate<KpisAggregate>(shop, "kpis");
      expect(kpis.customers.value).toBe(CUSTOMERS);
      expect(kpis.orders.value).toBe(totals.orders);
      expect(kpis.netRevenueMinor.value).toBe(totals.net);
      expect(kpis.periodDays).toBe(30);
      expect(kpis.customers.previous).toBeLessThan(CUSTOMERS); // customers acquired in the last 30 days
      const lastThirty = await pool.query<{ orders: string }>(
        `SELECT count(*)::text AS orders FROM "Order" WHERE shop = $1 AND "processedAt" >= $2::timestamp - INTERVAL '29 days' AND "processedAt" < $2::timestamp + INTERVAL '1 day'`,
        [shop, AS_OF_ISO],
      );
      expect(kpis.periodOrders.value).toBe(Number(lastThirty.rows[0].orders));
      const averageClv = rows.reduce((sum, r) => sum + Number(r.predictedClvMinor), 0) / CUSTOMERS;
      expect(kpis.averagePredictedClvMinor.value).toBe(Math.round(averageClv));

      const retention = await aggregate<RetentionAggregate>(shop, "retention");
      expect(retention.report.totals.customers).toBe(CUSTOMERS);
      expect(retention.report.totals.netRevenue).toBe(totals.net);
      expect(retention.filters.channel.map((f) => f.value).sort()).toEqual(["pos", "social", "web"]);
      const web = await aggregate<RetentionAggregate>(shop, retentionKind("channel", "web"));
      expect(web.filter).toEqual({ dimension: "channel", value: "web" });
      expect(web.report.totals.customers).toBe(retention.filters.channel.find((f) => f.value === "web")!.customers);
      expect(retention.filters.firstProduct.length).toBe(8);

      const backtest = await aggregate<BacktestAggregate>(shop, "backtest");
      expect(backtest.holdoutDays).toBe(180);
      expect(backtest.result?.customers).toBeGreaterThan(0);

      const daily = await pool.query<{ kind: string; customers: number }>(
        `SELECT kind, customers FROM "SegmentDailyCount" WHERE shop = $1 AND day = $2::date`,
        [shop, AS_OF_ISO],
      );
      expect(daily.rows.filter((r) => r.kind === "rfm").reduce((sum, r) => sum + r.customers, 0)).toBe(CUSTOMERS);
    });

    it("VIP is the top 5% by predicted CLV, found from every customer's prediction", async () => {
      const fit = await loadStoredFit(pool, shop);
      const threshold = fit?.behaviourThresholds?.vipMinPredictedClv;
      expect(threshold).toBeGreaterThan(0);
      const rows = await metricsRows(shop);
      const vip = rows.filter((r) => r.behaviours.includes("vip"));
      expect(vip.length).toBeGreaterThan(0);
      expect(vip.length).toBeLessThanOrEqual(Math.floor(0.05 * rows.length));
      // Exactly the customers at or above the threshold.
      expect(rows.filter((r) => Number(r.predictedClvMinor) >= threshold!).map((r) => r.customerId)).toEqual(vip.map((r) => r.customerId));
    });

    it("each row is what customerMetrics gives for the customer's orders and the stored fit", async () => {
      const settings = await loadMetricsSettings(pool, shop);
      const ctx = scoringContextOf(await loadStoredFit(pool, shop), AS_OF);
      const orders = await pool.query<{ customer_id: string; day: number; net: string; discounted: boolean }>(
        `${countedOrdersSql(settings)} AND o."customerId" <= 60`,
        countedOrdersParams(shop, settings),
      );
      const byCustomer = new Map<string, CustomerOrderFact[]>();
      for (const o of orders.rows) {
        const id = String(o.customer_id);
        byCustomer.set(id, [...(byCustomer.get(id) ?? []), { day: Number(o.day), net: Number(o.net), discounted: o.discounted }]);
      }
      const rows = new Map((await metricsRows(shop)).map((r) => [r.customerId, r]));
      expect(byCustomer.size).toBe(60);
      for (const [id, facts] of byCustomer) {
        const expected = customerMetrics(customerFactsFromOrders(id, facts, AS_OF), ctx);
        const row = rows.get(id)!;
        expect(row.segment).toBe(expected.segment);
        expect(row.behaviours).toEqual(expected.behaviours);
        expect(row.pAlive).toBe(expected.pAlive);
        expect(row.predictedClvMinor).toBe(String(expected.predictedClv));
        expect(row.recencyDays).toBe(expected.recencyDays);
      }
    });

    it("a refit a day later ages every customer by a day and bumps the version", async () => {
      const before = new Map((await metricsRows(shop)).map((r) => [r.customerId, r]));
      await pool.query(`UPDATE "ShopFit" SET "changesSinceFit" = 5, "firstChangeAt" = now() WHERE shop = $1`, [shop]);
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "nightly", now: nextDay(1) });
      expect(report.version).toBe(2);
      expect(report.asOfDay).toBe(AS_OF + 1);
      const fit = await fitRow(shop);
      expect(fit.changesSinceFit).toBe(0);
      const after = await metricsRows(shop);
      expect(after).toHaveLength(before.size);
      for (const row of after) {
        expect(row.recencyDays).toBe(before.get(row.customerId)!.recencyDays! + 1);
        expect(row.asOfDay).toBe(AS_OF + 1);
        expect(row.modelVersion).toBe(2);
      }
      // Yesterday's daily counts are now the 1-day-old history; the movements aggregate exists.
      const movements = await aggregate<MovementsAggregate>(shop, "movements");
      expect(movements.total).toBe(movements.moves.reduce((sum, m) => sum + m.customers, 0));
      const transitions = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM "SegmentTransition" WHERE shop = $1`, [shop]);
      expect(movements.total).toBe(Number(transitions.rows[0].n));
    });

    it("settings exclusions change who counts; customers left with no counted order get an orders-0 row", async () => {
      await pool.query(
        `INSERT INTO "ShopSettings" (shop, "excludedSourceNames", "excludedOrderTags", "segmentLabels", "updatedAt")
         VALUES ($1, ARRAY['pos'], '{}', '{"champions": "Our best"}', now())`,
        [shop],
      );
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "settings", now: NOW });
      const totals = await countedTotals(shop);
      expect(totals.customers).toBeLessThan(CUSTOMERS);
      expect(report.customers).toBe(totals.customers);
      const rows = await metricsRows(shop);
      expect(rows).toHaveLength(CUSTOMERS); // rows are kept, emptied
      const empty = rows.filter((r) => r.orders === 0);
      expect(empty.length).toBe(CUSTOMERS - totals.customers);
      for (const row of empty) {
        expect(row).toMatchObject({ netSpentMinor: "0", segment: null, pAlive: null, recencyDays: null, behaviours: [] });
      }
      const posOrders = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM "Order" WHERE shop = $1 AND "sourceName" = 'pos'`, [shop]);
      expect(Number(posOrders.rows[0].n)).toBeGreaterThan(0);
      const segments = await aggregate<SegmentsAggregate>(shop, "segments");
      expect(segments.customers).toBe(totals.customers);
      expect(segments.netSpentMinor).toBe(totals.net);
      expect(segments.rows.find((r) => r.key === "champions")?.name).toBe("Our best");
      const retention = await aggregate<RetentionAggregate>(shop, "retention");
      expect(retention.filters.channel.map((f) => f.value)).not.toContain("pos");
      const stale = await pool.query(`SELECT 1 FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`, [shop, retentionKind("channel", "pos")]);
      expect(stale.rowCount).toBe(0);
    });

    it("a customer whose orders change during the refit is scored from their orders as they are now", async () => {
      // A delivery that lands after the orders were read: the ingest path updates the customer's summary row.
      const before = (await metricsRows(shop)).find((r) => r.orders > 0 && r.recencyDays! > 0)!;
      const customerId = Number(before.customerId);
      const landDelivery = () => landOrder(shop, customerId, 999999, 4321);
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "debounce", now: NOW, onOrdersRead: landDelivery });
      const row = (await metricsRows(shop)).find((r) => r.customerId === String(customerId))!;
      expect(row).toMatchObject({ recencyDays: 0, orders: before.orders + 1, netSpentMinor: String(Number(before.netSpentMinor) + 4321) });
      expect(report.changedDuringRefit).toBe(1);
      // The fit itself was made from the orders read before the delivery.
      const segments = await aggregate<SegmentsAggregate>(shop, "segments");
      expect(segments.customers).toBe(report.customers);
      await pool.query(`DELETE FROM "Order" WHERE shop = $1 AND id = 999999`, [shop]);
    });
  });

  describe("segment transitions", () => {
    it("a refit months later writes one transition per customer whose segment changed, from the old segment to the new", async () => {
      const shop = uniqueShop("transitions");
      await insertSyntheticShop(pool, { shop, customers: 300, asOfDay: AS_OF, seed: 13 });
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW });
      const rows = await metricsRows(shop);
      const before = new Map(rows.map((r) => [r.customerId, r.segment]));
      // Some customers order again months later (the rest only age), so segments move.
      await pool.query(
        `INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency, "currentTotalMinor", "netMinor", "sourceName", "discountCodes", tags)
         SELECT $1, 900000 + n, id, $3::timestamp, $3::timestamp, $3::timestamp, 'USD', 9000, 9000, 'web', '{}', '{}'
         FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, n)`,
        [shop, rows.filter((_, i) => i % 5 === 0).map((r) => r.customerId), nextDay(119).toISOString()],
      );
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "nightly", now: nextDay(120) });
      const after = await metricsRows(shop);
      const moved = after.filter((row) => row.segment !== before.get(row.customerId));
      expect(moved.length).toBeGreaterThan(10);
      const written = await pool.query<{ customerId: string; fromSegment: string | null; toSegment: string | null }>(
        `SELECT "customerId"::text AS "customerId", "fromSegment", "toSegment" FROM "SegmentTransition"
         WHERE shop = $1 AND source = 'refit' ORDER BY "customerId"`,
        [shop],
      );
      expect(written.rows).toEqual(moved.map((row) => ({ customerId: row.customerId, fromSegment: before.get(row.customerId), toSegment: row.segment })));
    });
  });

  describe("redactions while a refit runs", () => {
    const rowsOf = async (table: string, shop: string, customerId?: number) => {
      const byCustomer = customerId === undefined ? "" : ` AND "customerId" = ${customerId}`;
      const result = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${table}" WHERE shop = $1${byCustomer}`, [shop]);
      return Number(result.rows[0].n);
    };

    it("a customer redacted after the orders were read gets no metrics row back", async () => {
      const shop = uniqueShop("redact-customer");
      await insertSyntheticShop(pool, { shop, customers: 120, asOfDay: AS_OF, seed: 5 });
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW });
      const victim = Number((await metricsRows(shop)).find((r) => r.orders > 1)!.customerId);
      const redact = async () => {
        await redactCustomer(testDb(), shop, { customerId: BigInt(victim), email: null, phone: null, orderIds: [] });
      };
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW, onOrdersRead: redact });
      // The refit scored the customer from the orders it read, and the redaction came first.
      expect(report.rowsWritten).toBeGreaterThan(0);
      expect(await rowsOf("CustomerMetrics", shop, victim)).toBe(0);
      expect(await rowsOf("SegmentTransition", shop, victim)).toBe(0);
      expect(await rowsOf("CustomerMetrics", shop)).toBe(119);
    });

    it("a shop redacted during the refit keeps nothing", async () => {
      const shop = uniqueShop("redact-shop");
      await insertSyntheticShop(pool, { shop, customers: 120, asOfDay: AS_OF, seed: 6 });
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW });
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW, onOrdersRead: () => redactShop(testDb(), shop).then(() => {}) });
      for (const table of ["CustomerMetrics", "SegmentTransition", "SegmentDailyCount", "ShopAggregate", "ShopFit"]) {
        expect(await rowsOf(table, shop), table).toBe(0);
      }
    });
  });

  describe("the ShopFit row", () => {
    it("keeps the previous fit and records the error when a refit fails", async () => {
      const shop = uniqueShop("fails");
      await insertSyntheticShop(pool, { shop, customers: 80, asOfDay: AS_OF });
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW });
      // A time zone PostgreSQL does not know makes the order query fail.
      await pool.query(`UPDATE "Shop" SET timezone = 'Mars/Olympus_Mons' WHERE domain = $1`, [shop]);
      await expect(refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW })).rejects.toThrow(/time zone/);
      const fit = await pool.query<{ version: number; error: string | null }>(`SELECT version, error FROM "ShopFit" WHERE shop = $1`, [shop]);
      expect(fit.rows[0].version).toBe(1);
      expect(fit.rows[0].error).toMatch(/time zone/);
      expect(dayToIso(AS_OF)).toBe(AS_OF_ISO);
    });
  });

  describe("live path and full refit agree (issue 4, point 8a)", () => {
    it("recomputeCustomerMetrics after a refit rewrites every row with the same values", async () => {
      const shop = uniqueShop("agree");
      await insertSyntheticShop(pool, { shop, customers: 700, asOfDay: AS_OF, seed: 9 });
      // Settings that matter to both paths: an excluded tag, a margin, a horizon.
      await pool.query(`UPDATE "Order" SET tags = ARRAY['wholesale'] WHERE shop = $1 AND id % 17 = 0`, [shop]);
      await pool.query(
        `INSERT INTO "ShopSettings" (shop, "grossMargin", "horizonDays", "excludedOrderTags", "excludedSourceNames", "updatedAt")
         VALUES ($1, 0.6, 180, ARRAY['wholesale'], '{}', now())`,
        [shop],
      );
      const report = await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW, batchSize: 250 });
      expect(report.status).toBe("ready");
      // Predictions are stored in revenue whatever the margin; pages apply it (issue 13, one money basis per page).
      const stored = await pool.query<{ margin: number; horizon: number }>(
        `SELECT (model->'assumptions'->>'grossMargin')::float8 AS margin, (model->'assumptions'->>'horizonDays')::int AS horizon FROM "ShopFit" WHERE shop = $1`,
        [shop],
      );
      expect(stored.rows[0]).toEqual({ margin: 1, horizon: 180 });
      const columns = `"customerId", orders, "netSpentMinor", "aovMinor", "discountedOrders", "firstOrderDay", "lastOrderDay", "recencyDays",
        "rScore", "fScore", "mScore", segment, behaviours, "pAlive", "expectedPurchases90d", "expectedPurchases365d",
        "expectedOrderValueMinor", "predictedClvMinor", "expectedNextOrderDay", "chanceOfOrder90d", "chanceOfOrder365d",
        "modelVersion", "asOfDay"`;
      const read = async () =>
        (await pool.query(`SELECT ${columns} FROM "CustomerMetrics" WHERE shop = $1 ORDER BY "customerId"`, [shop])).rows;
      const fromRefit = await read();
      // Customers with counted orders (some have only excluded ones and no row yet).
      expect(fromRefit).toHaveLength(report.customers);
      expect(report.customers).toBeLessThan(700);
      // Both writers fill the chance of ordering (issue 13): within 0..1, the 12-month one never below the 90-day one.
      for (const row of fromRefit) {
        expect(row.chanceOfOrder90d).toBeGreaterThanOrEqual(0);
        expect(row.chanceOfOrder365d).toBeLessThanOrEqual(1);
        expect(row.chanceOfOrder365d).toBeGreaterThanOrEqual(row.chanceOfOrder90d);
      }
      const ids = fromRefit.map((row) => String(row.customerId));
      const live = await recomputeCustomerMetrics(pool, shop, ids, { now: NOW });
      expect(live.written).toBe(report.customers);
      expect(live.transitions).toBe(0);
      expect(await read()).toEqual(fromRefit);

      // Customers with only excluded orders: the live path writes orders-0 rows; a refit
      // rewrites them (their rows exist now) with the same values.
      const all = await pool.query<{ id: string }>(`SELECT id::text AS id FROM "Customer" WHERE shop = $1`, [shop]);
      await recomputeCustomerMetrics(pool, shop, all.rows.map((row) => row.id), { now: NOW });
      const liveAll = await read();
      expect(liveAll).toHaveLength(700);
      expect(liveAll.filter((row) => row.orders === 0)).toHaveLength(700 - report.customers);
      await refitShop(pool, shop, { rebuildFromCustomers, trigger: "manual", now: NOW, batchSize: 250 });
      expect((await read()).map((row) => ({ ...row, modelVersion: null }))).toEqual(liveAll.map((row) => ({ ...row, modelVersion: null })));
    });
  });
});
