// The dashboard's KPI cards: each figure now and one comparison period earlier, from two
// retention reports and the orders of the last two periods. Pure.
import { type RetentionReport } from "./retention";
import { type TransactionTable } from "./summary";

/** Orders and net revenue in the last `periodDays` days up to asOfDay, and in the period before. */
export function periodTotals(table: TransactionTable, asOfDay: number, periodDays: number) {
  const days = table.days;
  const amounts = table.amounts;
  let orders = 0;
  let revenue = 0;
  let previousOrders = 0;
  let previousRevenue = 0;
  for (let row = 0; row < table.length; row++) {
    const age = asOfDay - days[row];
    if (age < 0 || age >= 2 * periodDays) continue;
    const orderCount = amounts[row] >= 0 ? 1 : 0;
    if (age < periodDays) {
      orders += orderCount;
      revenue += amounts[row];
    } else {
      previousOrders += orderCount;
      previousRevenue += amounts[row];
    }
  }
  return { orders, revenue, previousOrders, previousRevenue };
}

export interface KpiInputs {
  currency: string;
  asOfIso: string;
  periodDays: number;
  now: RetentionReport;
  /** The retention report as of periodDays earlier. */
  before: RetentionReport;
  /** Average predicted CLV now and periodDays earlier (from the daily counts); null when unknown. */
  averagePredictedClv: { value: number | null; previous: number | null };
  period: ReturnType<typeof periodTotals>;
}

const wholeOrNull = (value: number | null) => (value === null ? null : Math.round(value));

/** The KPI cards: each value now and `periodDays` earlier, from the two retention reports. */
export function kpisOf(k: KpiInputs) {
  const pair = <T>(pick: (r: RetentionReport) => T) => ({ value: pick(k.now), previous: pick(k.before) });
  const historic = (r: RetentionReport) => (r.totals.customers > 0 ? Math.round(r.totals.netRevenue / r.totals.customers) : null);
  return {
    currency: k.currency,
    asOfIso: k.asOfIso,
    periodDays: k.periodDays,
    customers: pair((r) => r.totals.customers),
    orders: pair((r) => r.totals.orders),
    netRevenueMinor: pair((r) => Math.round(r.totals.netRevenue)),
    repeatPurchaseRate: pair((r) => r.totals.repeatPurchaseRate),
    aovMinor: pair((r) => wholeOrNull(r.totals.aov)),
    ordersPerCustomer: pair((r) => r.totals.ordersPerCustomer),
    medianDaysBetweenOrders: pair((r) => r.daysBetweenOrders.overall.median),
    averageHistoricClvMinor: pair(historic),
    averagePredictedClvMinor: {
      value: wholeOrNull(k.averagePredictedClv.value),
      previous: wholeOrNull(k.averagePredictedClv.previous),
    },
    periodOrders: { value: k.period.orders, previous: k.period.previousOrders },
    periodNetRevenueMinor: { value: Math.round(k.period.revenue), previous: Math.round(k.period.previousRevenue) },
  };
}
