import fc from "fast-check";
import { dayIndex, monthIndex } from "./dates";
import { groupedOrdersFromGroups, groupOrdersByCustomer, type OrderFact, retentionSummary } from "./retention";
import { TransactionTable, groupByCustomer } from "./summary";
import { quantileSorted } from "./stats";

const d = dayIndex;

// A small shop, as of 2024-04-15 (last complete month: March 2024).
//   A: Jan 5 100 (web, WELCOME, Tea), Jan 20 50, refund row Feb 15 -10, Mar 10 30
//   B: Jan 31 80 (pos, Mug), Feb 1 0 (cancelled: still an order)
//   C: Feb 10 60 (web, code list empty, Tea)
//   D: Feb 29 40 (no channel, SPRING, no product), Feb 29 20 (same day), Apr 20 999 (after as-of)
//   E: May 1 10 (after as-of: not a customer)
//   G: refund row Mar 1 -5 (pos) before its first order Mar 2 25 (web, Tea)
const orders: OrderFact[] = [
  { customerId: "A", day: d("2024-01-05"), net: 100, channel: "web", discountCodes: ["WELCOME"], firstProduct: "Tea" },
  { customerId: "A", day: d("2024-01-20"), net: 50, channel: "pos" },
  { customerId: "A", day: d("2024-02-15"), net: -10 },
  { customerId: "A", day: d("2024-03-10"), net: 30, channel: "pos" },
  { customerId: "B", day: d("2024-01-31"), net: 80, channel: "pos", discountCodes: [], firstProduct: "Mug" },
  { customerId: "B", day: d("2024-02-01"), net: 0, channel: "web" },
  { customerId: "C", day: d("2024-02-10"), net: 60, channel: "web", discountCodes: [], firstProduct: "Tea" },
  { customerId: "D", day: d("2024-02-29"), net: 40, channel: null, discountCodes: ["SPRING"], firstProduct: null },
  { customerId: "D", day: d("2024-02-29"), net: 20, channel: "web", discountCodes: ["WELCOME"] },
  { customerId: "D", day: d("2024-04-20"), net: 999 },
  { customerId: "E", day: d("2024-05-01"), net: 10 },
  { customerId: "G", day: d("2024-03-01"), net: -5, channel: "pos" },
  { customerId: "G", day: d("2024-03-02"), net: 25, channel: "web", firstProduct: "Tea" },
];
const asOfDay = d("2024-04-15");

describe("retentionSummary on a hand-computed shop", () => {
  const report = retentionSummary(orders, { asOfDay, cac: 40, grossMargin: 0.5, topDimensionValues: 1 });

  it("totals: repeat purchase rate, orders per customer, AOV", () => {
    // customers A B C D G; orders 3 + 2 + 1 + 2 + 1 = 9 (refund rows are not orders, the cancelled one is);
    // revenue 170 + 80 + 60 + 60 + 25 = 395; repeaters A B D
    expect(report.totals).toEqual({
      customers: 5,
      orders: 9,
      netRevenue: 395,
      repeatCustomers: 3,
      repeatPurchaseRate: 0.6,
      ordersPerCustomer: 1.8,
      aov: 43.89, // 395 / 9 = 43.888...
      rowsAfterAsOf: 2,
      refundsBeforeFirstOrder: 1,
    });
    expect(report.asOf).toBe("2024-04-15");
    expect(report.assumptions.lastCompleteMonth).toBe("2024-03");
  });

  it("days between orders, overall and by step", () => {
    // step 1: A 15 (Jan 5 -> 20), B 1 (Jan 31 -> Feb 1), D 0 (same day); step 2: A 50 (Jan 20 -> Mar 10, leap year)
    const [first, second, third] = report.daysBetweenOrders.bySteps;
    expect(first).toMatchObject({ step: "1st to 2nd order", fromOrder: 1, toOrder: 2, count: 3, median: 1, p25: 0.5, p75: 8, p90: 12.2, mean: 5.3 });
    expect(second).toMatchObject({ step: "2nd to 3rd order", count: 1, median: 50, mean: 50 });
    expect(third).toMatchObject({ count: 0, median: null, mean: null });
    const grouped = report.daysBetweenOrders.bySteps[5];
    expect(grouped).toMatchObject({ step: "6th to 7th order and later", fromOrder: 6, toOrder: null, count: 0 });
    // overall [0, 1, 15, 50]: median 1 + 0.5 x 14 = 8, mean 66 / 4
    expect(report.daysBetweenOrders.overall).toMatchObject({ count: 4, median: 8, mean: 16.5 });
    expect(report.daysBetweenOrders.overall.histogram).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(report.daysBetweenOrders.buckets.slice(0, 4).map((b) => b.label)).toEqual(["same day", "1-7 days", "8-14 days", "15-30 days"]);
    expect(report.daysBetweenOrders.buckets.at(-1)).toEqual({ label: "731+ days", fromDays: 731, toDays: null });
  });

  it("cohorts by month of first order, censoring months that have not ended", () => {
    const [jan, feb, mar, apr] = report.cohorts.rows;
    expect(report.cohorts.rows.map((row) => row.month)).toEqual(["2024-01", "2024-02", "2024-03", "2024-04"]);
    // January: A and B. Feb: only B ordered (the cancelled order; A's row was a refund). March: A.
    expect(jan).toMatchObject({ size: 2, small: true, orders: 5, repeatPurchaseRate: 1 });
    expect(jan.activeShare.slice(0, 5)).toEqual([1, 0.5, 0.5, null, null]);
    expect(jan.cumulativeReturnShare.slice(0, 4)).toEqual([0, 0.5, 1, null]);
    // revenue by month 230, -10, 30 -> cumulative per customer 115, 110, 125
    expect(jan.ltvByMonth.slice(0, 4)).toEqual([115, 110, 125, null]);
    // 30 days: A 150 + B 80; 60 days: A 140 + B 80; 90 days: B's would end Apr 29, after as-of
    expect(jan.ltvAtDays).toEqual([115, 110, null, null, null]);
    expect(jan.ltvToCacAtDays).toEqual([1.4375, 1.375, null, null, null]); // 0.5 x 115 / 40
    expect(jan.paybackMonth).toBe(0); // 0.5 x 115 >= 40 in month 0

    expect(feb).toMatchObject({ size: 2, orders: 3, repeatPurchaseRate: 0.5, paybackMonth: null });
    expect(feb.activeShare.slice(0, 3)).toEqual([1, 0, null]);
    expect(feb.ltvByMonth.slice(0, 3)).toEqual([60, 60, null]);
    expect(feb.ltvAtDays).toEqual([60, null, null, null, null]); // D's 60 days end Apr 28

    expect(mar).toMatchObject({ size: 1, orders: 1 });
    expect(mar.activeShare.slice(0, 2)).toEqual([1, null]);
    expect(mar.ltvAtDays[0]).toBe(25);

    expect(apr).toMatchObject({ size: 0, small: true, orders: 0, repeatPurchaseRate: null, paybackMonth: null });
    expect(apr.activeShare[0]).toBeNull();
    expect(report.cohorts.olderCohortsNotListed).toBe(0);
    expect(jan.activeShare).toHaveLength(25);
  });

  it("the running month's cohort shows its month 0 (everyone ordered in it), not its revenue", () => {
    const withApril = retentionSummary([...orders, { customerId: "H", day: d("2024-04-02"), net: 70 }], { asOfDay, cac: 40, grossMargin: 0.5 });
    const apr = withApril.cohorts.rows.find((row) => row.month === "2024-04")!;
    expect(apr.size).toBe(1);
    expect(apr.activeShare.slice(0, 2)).toEqual([1, null]);
    expect(apr.cumulativeReturnShare.slice(0, 2)).toEqual([0, null]);
    expect(apr.ltvByMonth[0]).toBeNull(); // April has not ended: its revenue per customer is not final
  });

  it("pooled LTV by horizon and month, payback and LTV:CAC", () => {
    // 30 days: everyone (first orders up to Mar 17): (150 + 80 + 60 + 60 + 25) / 5
    // 60 days: first orders up to Feb 16 (A, B, C): (140 + 80 + 60) / 3;  90 days: up to Jan 17 (A): 170
    expect(report.ltv.atDays).toEqual([
      { days: 30, value: 75, customers: 5, ltvToCac: 0.9375 },
      { days: 60, value: 93.33, customers: 3, ltvToCac: 1.1667 },
      { days: 90, value: 170, customers: 1, ltvToCac: 2.125 },
      { days: 180, value: null, customers: 0, ltvToCac: null },
      { days: 365, value: null, customers: 0, ltvToCac: null },
    ]);
    // month 0: Jan, Feb, Mar cohorts (230 + 120 + 25) / 5; month 1: Jan, Feb (220 + 120) / 4; month 2: Jan 250 / 2
    expect(report.ltv.byMonth.slice(0, 4)).toEqual([75, 85, 125, null]);
    expect(report.ltv.byMonthCustomers.slice(0, 4)).toEqual([5, 4, 2, 0]);
    expect(report.ltv.paybackMonth).toBe(1); // 0.5 x 75 < 40 <= 0.5 x 85
  });

  it("splits by the first order's channel, product and discount code, top values + Other + (none)", () => {
    const [channel, product, code] = report.byDimension;
    expect(channel.key).toBe("channel");
    expect(channel.distinctValues).toBe(2);
    // First orders: A web, B pos, C web, D none, G web (not its earlier refund row's pos)
    expect(channel.rows.map((row) => [row.value, row.kind, row.customers, row.share])).toEqual([
      ["web", "value", 3, 0.6],
      ["Other", "other", 1, 0.2],
      ["(none)", "none", 1, 0.2],
    ]);
    const web = channel.rows[0];
    // A (3 orders, 170), C (1, 60), G (1, 25)
    expect(web).toMatchObject({ repeatPurchaseRate: 0.3333, ordersPerCustomer: 1.667, aov: 51, netRevenuePerCustomer: 85, small: true });
    expect(web.ltv.atDays[0]).toMatchObject({ value: 78.33, customers: 3 }); // (150 + 60 + 25) / 3
    // month 0: (150 + 60 + 25) / 3; month 1: A 140, C 60 over 2; month 2: A 170
    expect(web.ltv.byMonth.slice(0, 4)).toEqual([78.33, 100, 170, null]);
    expect(channel.rows[1]).toMatchObject({ value: "Other", ordersPerCustomer: 2, aov: 40 });
    expect(channel.rows[2]).toMatchObject({ value: "(none)", ordersPerCustomer: 2, aov: 30 });

    // Tea: A, C, G; Mug: B (in Other with top 1); none: D
    expect(product.rows.map((row) => [row.value, row.customers])).toEqual([
      ["Tea", 3],
      ["Other", 1],
      ["(none)", 1],
    ]);
    // Codes: SPRING (D) and WELCOME (A) tie at 1: the alphabetically first is listed
    expect(code.rows.map((row) => [row.value, row.customers])).toEqual([
      ["SPRING", 1],
      ["Other", 1],
      ["(none)", 3],
    ]);
  });

  it("gives the same report from a stream of orders", () => {
    function* stream() {
      yield* orders;
    }
    expect(retentionSummary(stream(), { asOfDay, cac: 40, grossMargin: 0.5, topDimensionValues: 1 })).toEqual(report);
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe("retentionSummary with each order's own profit (issue 17)", () => {
  it("sums profit into the same cohort cells and horizons as revenue (profit = net gives the revenue curves)", () => {
    const report = retentionSummary(
      orders.map((order) => ({ ...order, profit: order.net })),
      { asOfDay, cac: 40, grossMargin: 0.5, topDimensionValues: 1 },
    );
    expect(report.totals.grossProfit).toBe(report.totals.netRevenue);
    for (const row of report.cohorts.rows) {
      expect(row.profitLtvByMonth).toEqual(row.ltvByMonth);
      expect(row.profitLtvAtDays).toEqual(row.ltvAtDays);
    }
    expect(report.ltv.profitByMonth).toEqual(report.ltv.byMonth);
    expect(report.ltv.profitAtDays).toEqual(report.ltv.atDays.map((point) => point.value));
    // Payback reads the profit curve as it is: January's 115 by month 0 covers the CAC of 40 (at 0.5 x revenue it would too, at 57.5).
    expect(report.cohorts.rows[0].paybackMonth).toBe(0);
  });

  it("keeps profit apart from revenue, and gives no profit curves unless every order has a profit", () => {
    const halved = retentionSummary(
      orders.map((order) => ({ ...order, profit: order.net / 2 })),
      { asOfDay },
    );
    expect(halved.cohorts.rows[0].profitLtvByMonth?.slice(0, 4)).toEqual([57.5, 55, 62.5, null]);
    const partly = retentionSummary(
      orders.map((order, i) => (i === 3 ? order : { ...order, profit: order.net })),
      { asOfDay },
    );
    expect(partly.cohorts.rows[0].profitLtvByMonth).toBeUndefined();
    expect(partly.ltv.profitByMonth).toBeUndefined();
    // Past the builder's first 1,024 rows (its profit column grows): every row's profit is kept.
    const many = Array.from({ length: 3_000 }, (_, i) => ({ customerId: `c${i % 700}`, day: asOfDay - (i % 300), net: 10, profit: 1 + (i % 7) }));
    expect(retentionSummary(many, { asOfDay }).totals.grossProfit).toBe(many.reduce((sum, order) => sum + order.profit, 0));
    expect(() => retentionSummary([{ customerId: "A", day: asOfDay, net: 10, profit: Number.NaN }], { asOfDay })).toThrow(/orders\[0\]\.profit is not a finite number/);
  });
});

describe("retentionSummary edge cases", () => {
  it("marks a horizon observable exactly when the last customer has had every day of it", () => {
    const first = d("2024-06-10");
    const shop: OrderFact[] = [
      { customerId: "a", day: first, net: 10 },
      { customerId: "a", day: first + 29, net: 5 }, // day 30 of the window: inside
      { customerId: "a", day: first + 30, net: 7 }, // day 31: outside
    ];
    const later = retentionSummary(shop, { asOfDay: first + 40 });
    expect(later.ltv.atDays[0]).toMatchObject({ value: 15, customers: 1 }); // the order on day 31 is not in the first 30 days
    expect(later.ltv.atDays[1]).toMatchObject({ value: null, customers: 0 });
    const at29 = retentionSummary(shop, { asOfDay: first + 29 });
    expect(at29.ltv.atDays[0]).toMatchObject({ value: 15, customers: 1 });
    expect(at29.cohorts.rows[0].ltvAtDays[0]).toBe(15);
    const at28 = retentionSummary(shop, { asOfDay: first + 28 });
    expect(at28.ltv.atDays[0]).toMatchObject({ value: null, customers: 0 });
    expect(at28.cohorts.rows[0].ltvAtDays[0]).toBeNull();
  });

  it("handles a shop with no orders", () => {
    const report = retentionSummary([], { asOfDay: d("2024-01-10") });
    expect(report.totals).toMatchObject({ customers: 0, orders: 0, netRevenue: 0, repeatPurchaseRate: null, aov: null });
    expect(report.cohorts.rows).toEqual([]);
    expect(report.ltv.byMonth[0]).toBeNull();
    expect(report.daysBetweenOrders.overall.median).toBeNull();
    expect(report.byDimension.map((split) => split.rows)).toEqual([[], [], []]);
  });

  it("lists only the most recent cohorts but pools all of them", () => {
    const shop: OrderFact[] = ["2023-01-15", "2023-02-15", "2023-03-15"].map((day, i) => ({ customerId: `c${i}`, day: d(day), net: 10 * (i + 1) }));
    const report = retentionSummary(shop, { asOfDay: d("2023-03-31"), maxCohorts: 2, maxMonths: 3 });
    expect(report.cohorts.rows.map((row) => row.month)).toEqual(["2023-02", "2023-03"]);
    expect(report.cohorts.olderCohortsNotListed).toBe(1);
    expect(report.ltv.byMonth).toEqual([20, 15, 10, null]); // (10 + 20 + 30) / 3, (10 + 20) / 2, 10 / 1
    expect(report.cohorts.rows[0].activeShare).toHaveLength(4);
  });

  it("rejects bad orders and options with clear errors", () => {
    expect(() => retentionSummary([{ customerId: "a", day: 1.5, net: 1 }], { asOfDay: 10 })).toThrow(/orders\[0\]\.day must be a day index/);
    expect(() => retentionSummary([{ customerId: "", day: 1, net: 1 }], { asOfDay: 10 })).toThrow(/orders\[0\]\.customerId/);
    expect(() => retentionSummary([{ customerId: "a", day: 1, net: Number.NaN }], { asOfDay: 10 })).toThrow(/orders\[0\]\.net is not a finite number/);
    expect(() => retentionSummary([], { asOfDay: 10, grossMargin: 0 })).toThrow(/grossMargin/);
    expect(() => retentionSummary([], { asOfDay: 10, cac: -1 })).toThrow(/cac/);
    expect(() => retentionSummary([], { asOfDay: 10, horizonsDays: [60, 30] })).toThrow(/horizonsDays/);
    expect(() => retentionSummary([], { asOfDay: 10.5 })).toThrow(/asOfDay/);
  });
});

describe("groupOrdersByCustomer", () => {
  it("groups by customer, sorts each customer's orders by day and keeps same-day orders in input order", () => {
    // customer 1 gets a long run (above the insertion-sort limit) in reverse day order with ties
    const customers: number[] = [];
    const days: number[] = [];
    const amounts: number[] = [];
    const add = (c: number, day: number, amount: number) => {
      customers.push(c);
      days.push(day);
      amounts.push(amount);
    };
    add(0, 5, 1);
    for (let i = 0; i < 40; i++) add(1, 100 - Math.floor(i / 2), i); // days 100,100,99,99,...,81,81
    add(0, 3, 2);
    add(2, 50, 3);
    add(0, 3, 4);
    add(2, 200, 99); // after lastDay
    const grouped = groupOrdersByCustomer(Int32Array.from(customers), Int32Array.from(days), Float64Array.from(amounts), 3, 150);
    expect([...grouped.start]).toEqual([0, 3, 43, 44]);
    expect(grouped.rowsAfterAsOf).toBe(1);
    expect([...grouped.day.subarray(0, 3)]).toEqual([3, 3, 5]);
    expect([...grouped.amount.subarray(0, 3)]).toEqual([2, 4, 1]); // day-3 orders in input order
    const run = [...grouped.day.subarray(3, 43)];
    expect(run).toEqual([...run].sort((a, b) => a - b));
    // the pair on day 81 was added as amounts 38 then 39; the pair on day 100 as 0 then 1
    expect([...grouped.amount.subarray(3, 5)]).toEqual([38, 39]);
    expect([...grouped.amount.subarray(41, 43)]).toEqual([0, 1]);
    expect([...grouped.day.subarray(43)]).toEqual([50]);
  });
});

describe("groupedOrdersFromGroups", () => {
  it("gives groupOrdersByCustomer's arrays from groupByCustomer's grouping (rows in any order, same-day ties, rows after the last day, long runs)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: -5, max: 50 })), { maxLength: 120 }),
        fc.integer({ min: 0, max: 60 }),
        (rows, lastDay) => {
          const table = new TransactionTable();
          for (const [c, day, amount] of rows) table.add(`c${c}`, day, amount);
          const expected = groupOrdersByCustomer(table.customers, table.days, table.amounts, table.customerCount, lastDay);
          const actual = groupedOrdersFromGroups(table, groupByCustomer(table, lastDay));
          expect([...actual.start]).toEqual([...expected.start]);
          expect([...actual.day]).toEqual([...expected.day]);
          expect([...actual.amount]).toEqual([...expected.amount]);
          expect(actual.rowsAfterAsOf).toBe(expected.rowsAfterAsOf);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// Straightforward reference implementation of some metrics, to compare on random shops.
function naive(orders: OrderFact[], asOfDay: number) {
  const byCustomer = new Map<string, OrderFact[]>();
  for (const order of orders) {
    if (order.day > asOfDay) continue;
    byCustomer.set(order.customerId, [...(byCustomer.get(order.customerId) ?? []), order]);
  }
  const stepGaps: number[][] = [[], [], [], [], [], []];
  let repeaters = 0;
  let orderCount = 0;
  const cohortActive = new Map<number, { size: number; activeMonth1: number; returnedBy2: number }>();
  for (const list of byCustomer.values()) {
    list.sort((a, b) => a.day - b.day);
    orderCount += list.length;
    if (list.length >= 2) repeaters++;
    for (let i = 1; i < list.length; i++) stepGaps[Math.min(i, 6) - 1].push(list[i].day - list[i - 1].day);
    const cohort = monthIndex(list[0].day);
    const entry = cohortActive.get(cohort) ?? { size: 0, activeMonth1: 0, returnedBy2: 0 };
    entry.size++;
    const offsets = list.map((o) => monthIndex(o.day) - cohort);
    if (offsets.includes(1)) entry.activeMonth1++;
    if (offsets.some((k) => k === 1 || k === 2)) entry.returnedBy2++;
    cohortActive.set(cohort, entry);
  }
  const medians = stepGaps.map((gaps) => quantileSorted([...gaps].sort((a, b) => a - b), 0.5));
  return { customers: byCustomer.size, repeaters, orderCount, medians, cohortActive };
}

describe("retentionSummary properties", () => {
  const shopArb = fc
    .array(
      fc.record({
        customer: fc.integer({ min: 0, max: 15 }),
        day: fc.integer({ min: d("2023-01-01"), max: d("2023-12-31") }),
        net: fc.integer({ min: 0, max: 200 }),
      }),
      { minLength: 1, maxLength: 120 },
    )
    .map((rows) => rows.map((row) => ({ customerId: `c${row.customer}`, day: row.day, net: row.net, channel: `ch${row.customer % 3}` })));
  const asOf = d("2023-11-30");

  it("does not depend on the order of the rows", () => {
    fc.assert(
      fc.property(
        shopArb.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        ([rows, shuffled]) => {
          expect(retentionSummary(shuffled, { asOfDay: asOf, cac: 50 })).toEqual(retentionSummary(rows, { asOfDay: asOf, cac: 50 }));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("agrees with a straightforward per-customer computation", () => {
    fc.assert(
      fc.property(shopArb, (rows) => {
        const report = retentionSummary(rows, { asOfDay: asOf });
        const expected = naive(rows, asOf);
        expect(report.totals.customers).toBe(expected.customers);
        expect(report.totals.orders).toBe(expected.orderCount);
        expect(report.totals.repeatCustomers).toBe(expected.repeaters);
        report.daysBetweenOrders.bySteps.forEach((step, i) => {
          const median = expected.medians[i];
          expect(step.median).toBe(median === null ? null : Math.round(median * 10) / 10);
        });
        for (const row of report.cohorts.rows) {
          const entry = expected.cohortActive.get(monthIndex(d(`${row.month}-01`)));
          if (!entry) {
            expect(row.size).toBe(0);
            continue;
          }
          expect(row.size).toBe(entry.size);
          const month1 = row.activeShare[1];
          const return2 = row.cumulativeReturnShare[2];
          if (month1 !== null) expect(month1).toBeCloseTo(entry.activeMonth1 / entry.size, 4);
          if (return2 !== null) expect(return2).toBeCloseTo(entry.returnedBy2 / entry.size, 4);
        }
      }),
      { numRuns: 60 },
    );
  });
});
