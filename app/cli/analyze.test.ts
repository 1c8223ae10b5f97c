import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dayIndex } from "~/analytics/dates";
import { ANALYZE_USAGE, analyze as analyzeFile, runAnalyze } from "./analyze";
import { CUSTOMER_COLUMNS } from "./customers-csv";
import { memoryIo } from "./io";
import { CDNOW_SAMPLE, analyzeRunsForTests, customersCsv, outputJson } from "./analyze-runs.testing";

const SHOPIFY_EXPORT = "app/cli/fixtures/shopify-orders-export.csv";
const HEADER = CUSTOMER_COLUMNS.join(",");

const { dir, analyze } = analyzeRunsForTests("tenure-analyze-");

describe("tenure analyze on CDNOW (weeks)", () => {
  it("writes customers.csv, summary.json and model.json for all 2,357 customers", async () => {
    const { code, io, out } = await analyze([CDNOW_SAMPLE, "--as-of", "1997-09-30"]);
    expect(io.err()).toContain("2,357 customers");
    expect(code).toBe(0);
    expect(readFileSync(join(out, "customers.csv"), "utf8").split("\n")[0]).toBe(HEADER);
    const rows = customersCsv(out);
    expect(rows).toHaveLength(2357);

    // Customer 1 of the published summary: x = 2, t_x = 30.43, T = 38.86; P(alive) 0.7266 under BG/NBD.
    const first = rows.find((r) => r.customer_id === "0001")!;
    expect(first).toMatchObject({ orders: "3", frequency: "2", recency: "30.4286", T: "38.8571", monetary_value: "22.345", total_spent: "74.02" });
    expect(Number(first.p_alive)).toBeCloseTo(0.7266, 3);
    expect(first.expected_next_order_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const column of ["r_score", "f_score", "m_score"]) expect(rows.every((r) => /^[1-5]$/.test(r[column]))).toBe(true);
    expect(rows.every((r) => r.rfm_segment !== "" && r.predicted_clv_365d !== "")).toBe(true);

    const model = outputJson(out, "model.json");
    expect(model).toMatchObject({ ok: true, chosen: "bgnbd", asOf: "1997-09-30", assumptions: { unit: "week", horizonDays: 365, annualDiscountRate: 0.1, grossMargin: 1 } });
    expect(model.logLikelihood).toBeCloseTo(-9582.43, 2);
    expect(model.backtest).toBeUndefined();

    const summary = outputJson(out, "summary.json");
    expect(summary).toMatchObject({ asOf: "1997-09-30", unit: "week", customers: 2357, input: { format: "cdnow", transactions: 6919, badRows: 0 } });
    expect(summary.retention.totals.customers).toBe(2357);
    expect(Object.values(summary.rfm.segments as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(2357);
  });

  it("backtests: 1,882 actual vs ~1,653.4 predicted repeat purchases in the 39-week holdout", async () => {
    const { code, out } = await analyze([CDNOW_SAMPLE, "--calibration-end", "1997-09-30", "--as-of", "1998-06-30"]);
    expect(code).toBe(0);
    const { backtest, ok, choiceReason } = outputJson(out, "model.json");
    expect(ok).toBe(true);
    expect(choiceReason).toMatch(/holdout/);
    expect(backtest).toMatchObject({ ok: true, modelName: "bgnbd", calibrationEnd: "1997-09-30", holdoutEnd: "1998-06-30", customers: 2357, totalActual: 1882 });
    expect(backtest.totalPredicted).toBeCloseTo(1653.4, 0);
    expect(backtest.holdoutLength).toBe(39);
    expect(backtest.weekly.at(-1)).toMatchObject({ holdout: true, end: "1998-06-30", cumulativeActual: expect.any(Number) });
  });
});

describe("tenure analyze on a Shopify orders export", () => {
  it("counts each order once and leaves predictions empty when there is too little data", async () => {
    const { code, io, out } = await analyze([SHOPIFY_EXPORT]);
    expect(code).toBe(0);
    expect(io.err()).toContain("not counted: 1 test order (Bogus gateway), 1 order without a customer email");
    const rows = customersCsv(out);
    expect(rows.map((r) => r.customer_id)).toEqual(["ada@example.com", "grace@example.com", "kat@example.net"]);
    const ada = rows[0];
    // Four purchase days (two orders on Feb 14th are one), refunds netted: 77.86 + 51.73 + 0 + 71.46.
    expect(ada).toMatchObject({ orders: "4", frequency: "3", total_spent: "201.05", p_alive: "", expected_purchases_90d: "", predicted_clv_365d: "", expected_next_order_date: "" });
    const model = outputJson(out, "model.json");
    expect(model).toMatchObject({ ok: false, code: "too-few-customers" });
    expect(model.reason).toMatch(/3 customers/);
    const summary = outputJson(out, "summary.json");
    expect(summary).toMatchObject({ asOf: "2024-06-02", input: { format: "shopify", transactions: 10, skipped: { "test-order": 1, "no-email": 1 } } });
    const channels = summary.retention.byDimension.find((d: { key: string }) => d.key === "channel");
    expect(channels.rows.map((r: { value: string }) => r.value)).toEqual(["web"]);
  });
});

describe("bad rows", () => {
  const file = () => {
    const path = dir.write("with-bad-rows.csv", ["customer_id,date,amount", "a,2024-01-01,10", "b,2024-01-02,5", "c,2024-02-30,7", "a,2024-03-01,12.5", "d,2024-03-02"].join("\n"));
    return path;
  };

  it("are reported with their line numbers, skipped and counted", async () => {
    const { code, io, out } = await analyze([file(), "--unit", "day"]);
    expect(code).toBe(0);
    expect(io.err()).toContain('with-bad-rows.csv:4: column 2 "date": "2024-02-30" is not a date');
    expect(io.err()).toContain("with-bad-rows.csv:6: expected 3 columns, found 2");
    expect(io.err()).toContain("skipped 2 bad rows of 6 lines");
    expect(customersCsv(out).map((r) => [r.customer_id, r.orders, r.total_spent])).toEqual([
      ["a", "2", "22.5"],
      ["b", "1", "5"],
    ]);
    expect(outputJson(out, "summary.json").input).toMatchObject({ transactions: 3, badRows: 2 });
  });

  it("fail the run under --strict, before anything is written", async () => {
    const { code, io, out } = await analyze([file(), "--strict"]);
    expect(code).toBe(1);
    expect(io.err()).toContain("with-bad-rows.csv:4:");
    expect(io.err()).toContain("2 bad rows");
    expect(existsSync(out)).toBe(false);
  });

  it("are listed in full only up to a limit, then counted", async () => {
    const path = dir.write("many-bad.csv", ["customer_id,date,amount", ...Array.from({ length: 25 }, (_, i) => `c${i},not-a-date,1`), "ok,2024-01-01,1"].join("\n"));
    const { code, io } = await analyze([path]);
    expect(code).toBe(0);
    expect(io.err().match(/many-bad\.csv:\d+:/g)).toHaveLength(10);
    expect(io.err()).toContain("... and 15 more bad rows");
  });
});

describe("options", () => {
  it("default to the last transaction's day and weeks", async () => {
    const { code, out } = await analyze([CDNOW_SAMPLE]);
    expect(code).toBe(0);
    expect(outputJson(out, "summary.json")).toMatchObject({ asOf: "1998-06-30", unit: "week", lastTransaction: "1998-06-30" });
    expect(outputJson(out, "model.json").asOf).toBe("1998-06-30");
  });

  it("ignore transactions after --as-of", async () => {
    const { out } = await analyze([CDNOW_SAMPLE, "--as-of", "1997-01-31", "--unit", "day"]);
    const summary = outputJson(out, "summary.json");
    expect(summary.customers).toBeLessThan(2357);
    expect(customersCsv(out).every((r) => Number(r.T) <= dayIndex("1997-01-31") - dayIndex("1997-01-01"))).toBe(true);
  });

  it.each([
    [["--out", "x"], /missing the transactions file/],
    [[CDNOW_SAMPLE], /missing --out/],
    [[CDNOW_SAMPLE, "--out", "x", "--unit", "year"], /--unit must be one of day, week, month/],
    [[CDNOW_SAMPLE, "--out", "x", "--margin", "1.5"], /--margin must be in \(0, 1\]/],
    [[CDNOW_SAMPLE, "--out", "x", "--bogus"], /Unknown option '--bogus'/],
  ])("reject %j as usage errors (exit 2)", async (args, message) => {
    const io = memoryIo();
    expect(await runAnalyze(args, io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain("Usage: tenure analyze");
  });

  it("reject dates that are not dates and a calibration end after as-of", async () => {
    const bad = await analyze([CDNOW_SAMPLE, "--as-of", "1997-02-30"]);
    expect(bad.code).toBe(2);
    expect(bad.io.err()).toMatch(/--as-of: "1997-02-30" is not a calendar date/);
    const late = await analyze([CDNOW_SAMPLE, "--as-of", "1997-09-30", "--calibration-end", "1997-10-01"]);
    expect(late.code).toBe(2);
    expect(late.io.err()).toMatch(/--calibration-end 1997-10-01 must be before the as-of day 1997-09-30/);
  });

  it("report a missing or unrecognised file plainly", async () => {
    const missing = await analyze([dir.path("nope.csv")]);
    expect(missing.code).toBe(1);
    expect(missing.io.err()).toMatch(/nope\.csv: no such file/);
    const path = dir.write("unknown.txt", "hello\n");
    const unknown = await analyze([path]);
    expect(unknown.code).toBe(1);
    expect(unknown.io.err()).toMatch(/unrecognised first line/);
  });

  it("print help", async () => {
    const io = memoryIo();
    expect(await runAnalyze(["--help"], io)).toBe(0);
    expect(io.out()).toBe(ANALYZE_USAGE);
  });
});

describe("historyScorer", () => {
  it("gives every customer exactly what the model's own score() gives", async () => {
    const { readTransactionFile } = await import("./read-transactions");
    const { TransactionTable, summarizeTable } = await import("~/analytics/summary");
    const { fitShopModel } = await import("~/analytics/clv/shop-model");
    const { historyScorer } = await import("./customer-rows");
    const table = new TransactionTable();
    await readTransactionFile(CDNOW_SAMPLE, { transaction: (text, start, end, day, amount) => table.addRange(text, start, end, day, amount), error: () => undefined });
    const asOfDay = dayIndex("1997-09-30");
    const summaries = summarizeTable(table, { asOfDay, unit: "week" });
    const fit = fitShopModel(summaries, { unit: "week" });
    if (!fit.ok) throw new Error(fit.reason);
    const scorer = historyScorer(fit.model, asOfDay);
    let shared = 0;
    const seen = new Set<string>();
    for (const s of summaries) {
      const key = `${s.frequency},${s.recency},${s.T}`;
      if (seen.has(key)) shared++;
      seen.add(key);
      const expected = fit.model.score(s);
      const actual = scorer(s);
      expect(actual.pAlive).toBe(expected.pAlive);
      expect(actual.expectedPurchases365d).toBe(expected.expectedPurchases365d);
      expect(actual.expectedNextOrderDay).toBe(expected.expectedNextOrderDay);
      expect(actual.expectedOrderValue).toBeCloseTo(expected.expectedOrderValue!, 9);
      expect(actual.predictedClv).toBeCloseTo(expected.predictedClv!, 9);
    }
    // The cache was really used: most CDNOW customers share a history with someone.
    expect(shared).toBeGreaterThan(1000);
  });
});

describe("reading on several threads", () => {
  it("writes the same customers.csv, summary.json and model.json, bad rows and their line numbers as one thread", async () => {
    // CDNOW with a bad row in each quarter, so that every part has one.
    const lines = readFileSync(CDNOW_SAMPLE, "utf8").split("\n");
    for (const at of [1000, 2500, 4000, 6000]) lines[at] = lines[at].replace(/ 199\d\d\d\d\d /, " 1997XX01 ");
    const input = dir.write("cdnow-bad-rows.txt", lines.join("\n"));
    const run = async (threads: number) => {
      const out = dir.path(`threads-read-${threads}`);
      const io = memoryIo();
      await analyzeFile({ input, outDir: out, asOf: "1997-09-30", calibrationEnd: "1997-06-30", threads, minBytesPerReadThread: 4096, maxReportedErrors: 3 }, io);
      return { err: io.err().replace(/ \(\d+\.\d s\)/g, ""), files: ["customers.csv", "summary.json", "model.json"].map((name) => readFileSync(join(out, name), "utf8")) };
    };
    const one = await run(1);
    expect(one.err).toContain(`${input}:1001: column 3 "date"`);
    expect(one.err).toContain("... and 1 more bad row");
    for (const threads of [2, 3]) expect(await run(threads)).toEqual(one);
  });
});
