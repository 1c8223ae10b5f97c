import { dayIndex } from "../app/analytics/dates";
import { summarize } from "../app/analytics/summary";
import { generateSyntheticTransactions } from "./synthetic-transactions";

describe("synthetic transactions", () => {
  const options = { rows: 50_000, customers: 5_000, seed: 7, firstDay: "2022-01-01", lastDay: "2024-12-31" };

  it("has exactly the rows and customers asked for, in the date range, and is seeded", () => {
    const data = generateSyntheticTransactions(options);
    expect(data.customer).toHaveLength(50_000);
    expect(new Set(data.customer).size).toBe(5_000);
    expect(Math.min(...data.day)).toBeGreaterThanOrEqual(dayIndex("2022-01-01"));
    expect(Math.max(...data.day)).toBeLessThanOrEqual(dayIndex("2024-12-31"));
    expect(Math.min(...data.amountCents)).toBeGreaterThanOrEqual(50);
    expect(generateSyntheticTransactions(options).amountCents).toEqual(data.amountCents);
    expect(generateSyntheticTransactions({ ...options, seed: 8 }).amountCents).not.toEqual(data.amountCents);
  });

  it("looks like a shop: many one-time buyers, a heavy tail, several orders on some days", () => {
    const data = generateSyntheticTransactions(options);
    const tx = Array.from(data.customer, (c, i) => ({ customerId: String(c), day: data.day[i], amount: data.amountCents[i] / 100 }));
    const summaries = summarize(tx, { asOfDay: dayIndex("2024-12-31"), unit: "day" });
    const oneTimers = summaries.filter((s) => s.frequency === 0).length / summaries.length;
    expect(oneTimers).toBeGreaterThan(0.25);
    expect(oneTimers).toBeLessThan(0.5);
    expect(Math.max(...summaries.map((s) => s.orders))).toBeGreaterThan(100);
    const purchaseDays = summaries.reduce((sum, s) => sum + s.orders, 0);
    expect(purchaseDays).toBeLessThan(50_000);
    const meanSpend = data.amountCents.reduce((a, b) => a + b, 0) / data.amountCents.length / 100;
    expect(meanSpend).toBeGreaterThan(20);
    expect(meanSpend).toBeLessThan(45);
  });
});
