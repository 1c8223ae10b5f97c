// `tenure analyze --calibration-end`: the holdout diagnostics (customers.csv's holdout
// columns, model.json's conditional-expectation table and spend error) and the backtest's
// refusal of a calibration period too thin for the main fit.
import { readFileSync } from "node:fs";
import { CUSTOMER_COLUMNS } from "./customers-csv";
import { HOLDOUT_COLUMNS } from "./holdout-columns";
import { CDNOW_SAMPLE, analyzeRunsForTests, customersCsv, customersCsvText, outputJson } from "./analyze-runs.testing";

const { dir, analyze } = analyzeRunsForTests("tenure-analyze-holdout-");
const modelJson = (out: string) => outputJson(out, "model.json");

describe("tenure analyze --calibration-end on CDNOW (39 + 39 weeks)", () => {
  let out = "";
  beforeAll(async () => {
    const run = await analyze([CDNOW_SAMPLE, "--calibration-end", "1997-09-30", "--as-of", "1998-06-30"]);
    expect(run.code).toBe(0);
    out = run.out;
  });

  it("customers.csv gets predicted and actual holdout purchases and spend per customer", () => {
    expect(customersCsvText(out).split("\n")[0]).toBe([...CUSTOMER_COLUMNS, ...HOLDOUT_COLUMNS].join(","));
    const rows = customersCsv(out);
    expect(rows).toHaveLength(2357);
    const sum = (column: string) => rows.reduce((total, row) => total + Number(row[column]), 0);
    expect(sum("holdout_purchases_actual")).toBe(1882);
    expect(Math.abs(sum("holdout_purchases_predicted") - 1653.42)).toBeLessThan(0.1);
    // Customer 0001 (x = 2 by 1997-09-30) made 1 holdout purchase, on 1997-12-12 for 26.48 (CDNOW_sample.txt).
    const first = rows.find((row) => row.customer_id === "0001")!;
    expect(first).toMatchObject({ holdout_purchases_actual: "1", holdout_spend_actual: "26.48" });
    expect(Number(first.holdout_purchases_predicted)).toBeCloseTo(1.2259, 3); // E[Y(39) | 2, 30.43, 38.86], docs/CLV-REFERENCE.md
    expect(Number(first.holdout_spend_predicted)).toBeGreaterThan(0);
    // Actual spend is the holdout purchase days' value: summed, it is every holdout purchase's.
    const holdoutDollars = readFileSync(CDNOW_SAMPLE, "utf8")
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length === 5 && fields[2] > "19970930" && fields[2] <= "19980630")
      .reduce((total, fields) => total + Number(fields[4]), 0);
    expect(sum("holdout_spend_actual")).toBeCloseTo(holdoutDollars, 2);
  });

  it("model.json gets the conditional-expectation table and the spend model's holdout error", () => {
    const { backtest } = modelJson(out);
    expect(backtest.ok).toBe(true);
    const table = backtest.conditionalExpectations as { frequency: number; orMore: boolean; customers: number; actual: number; predicted: number }[];
    expect(table.map((row) => row.frequency)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(table.at(-1)!.orMore).toBe(true);
    expect(table[0].customers).toBe(2357 - 946);
    expect(table.reduce((total, row) => total + row.customers, 0)).toBe(2357);
    expect(table.reduce((total, row) => total + row.customers * row.actual, 0)).toBeCloseTo(1882, 9);
    // The same figures as customers.csv's columns (rounded to 6 decimals there), grouped.
    const predictedInCsv = customersCsv(out).reduce((total, row) => total + Number(row.holdout_purchases_predicted), 0);
    expect(table.reduce((total, row) => total + row.customers * row.predicted, 0)).toBeCloseTo(predictedInCsv, 3);
    expect(backtest.spend).toMatchObject({ customers: expect.any(Number), meanAbsoluteError: expect.any(Number), bias: expect.any(Number) });
    expect(backtest.spend.params.p).toBeCloseTo(6.25, 1);
  });
});

describe("tenure analyze --calibration-end: thin or outside windows", () => {
  // 9 customers before 2024-03-01 (none repeating), then 100 more, 40 of whom order again.
  const lines = ["customer_id,date,amount"];
  for (let i = 0; i < 9; i++) lines.push(`early${i},2024-01-${String(10 + i).padStart(2, "0")},10`);
  lines.push(`"smith, j",2024-01-05,12`); // a quoted id: the holdout columns land after it too
  for (let i = 0; i < 100; i++) {
    lines.push(`c${i},2024-03-${String(1 + (i % 28)).padStart(2, "0")},20`);
    if (i < 40) lines.push(`c${i},2024-0${6 + (i % 3)}-15,25`);
  }
  lines.push("early0,2024-08-01,30");
  const file = () => dir.write("thin.csv", lines.join("\n") + "\n");

  it("a calibration period with 10 customers is reported as not enough data for the backtest, not fitted", async () => {
    const { code, out } = await analyze([file(), "--calibration-end", "2024-02-01"]);
    expect(code).toBe(0);
    const { backtest } = modelJson(out);
    expect(backtest).toEqual({
      ok: false,
      code: "too-few-customers",
      reason: "the calibration period up to 2024-02-01 has 10 customers with an order; a backtest needs at least 50",
    });
    // The holdout columns are there, empty: nothing was predicted.
    const rows = customersCsv(out);
    expect(rows).toHaveLength(110);
    expect(Object.keys(rows[0]).slice(-4)).toEqual([...HOLDOUT_COLUMNS]);
    expect(rows.every((row) => HOLDOUT_COLUMNS.every((column) => row[column] === ""))).toBe(true);
    expect(rows.find((row) => row.customer_id === "smith, j")).toBeDefined();
  });

  it("a calibration end before the first transaction is a usage error (exit 2)", async () => {
    const { code, io } = await analyze([file(), "--calibration-end", "2023-12-31"]);
    expect(code).toBe(2);
    expect(io.err()).toMatch(/--calibration-end 2023-12-31 is before the first transaction \(2024-01-05\): there is nothing to fit the backtest on/);
  });
});
