import { describe, expect, it } from "vitest";
import { type BacktestAggregate } from "~/data/aggregates";
import { refitShop } from "~/refit/refit.server";
import { uniqueShop } from "../support/db";
import { insertSyntheticShop } from "./synthetic-shop";
import { AS_OF, NOW, aggregate, pool } from "./refit-fixtures";

// The refit's backtest aggregate (app/refit/aggregates.server.ts): the calibration period
// must pass the main fit's minimums, and a usable backtest carries the conditional-expectation
// table and the spend model's holdout error for the Model page.

describe("the refit's backtest aggregate", () => {
  it("a calibration period that leaves 20 customers is reported as not enough data, not fitted", async () => {
    const shop = uniqueShop("thin-backtest");
    // 20 customers who all ordered before the holdout (two years up to 200 days before as-of),
    // then 200 who first ordered in the last 150 days: plenty for the main fit, and the
    // 180-day holdout leaves the calibration period the 20 alone.
    await insertSyntheticShop(pool, { shop, customers: 20, asOfDay: AS_OF - 200, historyDays: 730, seed: 5 });
    await insertSyntheticShop(pool, { shop, customers: 200, asOfDay: AS_OF, historyDays: 150, firstCustomerId: 1000, seed: 6 });
    const report = await refitShop(pool, shop, { trigger: "manual", now: NOW });
    expect(report.status).toBe("ready");
    const backtest = await aggregate<BacktestAggregate>(shop, "backtest");
    expect(backtest.holdoutDays).toBe(180);
    expect(backtest.result).toBeNull();
    expect(backtest.code).toBe("too-few-customers");
    expect(backtest.note).toMatch(/^not enough data: the calibration period up to \d{4}-\d{2}-\d{2} has 20 customers with an order; a backtest needs at least 50$/);
  });

  it("a usable backtest stores the conditional-expectation table and the spend model's holdout error", async () => {
    const shop = uniqueShop("backtest-table");
    await insertSyntheticShop(pool, { shop, customers: 600, asOfDay: AS_OF, seed: 7 });
    await refitShop(pool, shop, { trigger: "manual", now: NOW });
    const { result, code, note } = await aggregate<BacktestAggregate>(shop, "backtest");
    expect(code).toBeNull();
    expect(note).toBeNull();
    const table = result!.conditionalExpectations;
    expect(table.map((row) => row.frequency)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(table.reduce((sum, row) => sum + row.customers, 0)).toBe(result!.customers);
    expect(table.reduce((sum, row) => sum + row.customers * (row.actual ?? 0), 0)).toBeCloseTo(result!.totalActual, 9);
    expect(table.reduce((sum, row) => sum + row.customers * (row.predicted ?? 0), 0)).toBeCloseTo(result!.totalPredicted, 6);
    expect(result!.spend === null ? result!.spendNote : result!.spend.customers).toBeTruthy();
  });
});
