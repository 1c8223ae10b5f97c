// The "estimate from averages": what Tenure shows for expected spend when the shop's data are
// below the model's minimums (or the model did not converge). It is the simple formula every
// CLV article teaches, value = AOV × orders per year × years as a customer, made from the
// shop's own averages and turned into the same per-customer horizon figure the model gives.
// The same for every customer who ordered, and labelled as such wherever shown.
// Definitions and assumptions: docs/analytics/clv.md, "Estimate from averages". Pure.
import { MONTH_DAYS, horizonMonths, monthlyDiscountRate } from "./clv/lifetime-value";

const YEAR_DAYS = 365.25;

/** Where a shop's predicted figures come from (ShopFit.predictionSource): the fitted model, or this estimate. */
export type PredictionSource = "model" | "averages";

/** One customer with at least one counted order, as the estimate reads them. */
export interface AveragesCustomer {
  orders: number;
  /** Net revenue to date, whole minor units. */
  netSpent: number;
  /** Day index of the first counted order. */
  firstOrderDay: number;
}

export interface AveragesOptions {
  /** Horizon of the expected spend, in days (the shop's setting, as for the model). */
  horizonDays: number;
  annualDiscountRate: number;
  /** Share of revenue kept as margin, 0..1 (1: revenue), applied as the model applies it. */
  grossMargin: number;
}

/** The estimate, stored with the shop's fit (ShopFit.averagesEstimate) and copied onto each customer who ordered. */
export interface AveragesEstimate {
  version: 1;
  asOfDay: number;
  /** What it is made of: customers with a counted order, their orders and revenue (minor units). */
  customers: number;
  orders: number;
  revenue: number;
  /** Average order value: revenue / orders, minor units. */
  aov: number;
  /** Orders after each customer's first, per customer per year as a customer: (orders − customers) / customer-years since first orders. */
  repeatOrdersPerYear: number;
  /** Observed lifespan: the longest any customer has been with the shop (days from the earliest first order to the as-of day). */
  observedLifespanDays: number;
  horizonDays: number;
  annualDiscountRate: number;
  grossMargin: number;
  /** Per customer: expected orders in the next 90 and 365 days, repeatOrdersPerYear × min(t, observed lifespan). */
  expectedPurchases90d: number;
  expectedPurchases365d: number;
  /** Per customer: expected order value = AOV (minor units). */
  expectedOrderValue: number;
  /** Per customer: expected spend over the horizon, discounted monthly like the model's and times the margin (minor units). */
  expectedSpend: number;
  /** Shop-wide: the textbook figure for a new customer, AOV × (1 + repeatOrdersPerYear × observed lifespan in years), times the margin. */
  newCustomerValue: number;
}

/** Expected orders of one customer in the next `days`: the repeat rate, over at most the observed lifespan. */
function expectedOrders(repeatOrdersPerYear: number, observedLifespanDays: number, days: number): number {
  return (repeatOrdersPerYear * Math.min(days, observedLifespanDays)) / YEAR_DAYS;
}

/**
 * The estimate from the shop's customers who ordered, as of `asOfDay`; null when there are
 * none. A customer's first order starts their time as a customer, so the repeat rate counts
 * only the orders after it, over the time since it.
 */
export function estimateFromAverages(customers: Iterable<AveragesCustomer>, asOfDay: number, options: AveragesOptions): AveragesEstimate | null {
  const { horizonDays, annualDiscountRate, grossMargin } = options;
  if (!Number.isInteger(asOfDay)) throw new RangeError(`as-of day ${asOfDay} must be a day index`);
  if (!(grossMargin >= 0 && grossMargin <= 1)) throw new RangeError(`gross margin ${grossMargin} must be between 0 and 1`);
  const months = horizonMonths(horizonDays); // throws on a horizon that is not a positive number
  const discount = 1 + monthlyDiscountRate(annualDiscountRate); // throws on a rate at or below -1
  let count = 0;
  let orders = 0;
  let revenue = 0;
  let customerDays = 0;
  let earliestFirstDay = Infinity;
  for (const c of customers) {
    if (!(Number.isInteger(c.orders) && c.orders >= 1)) throw new RangeError(`a customer's orders ${c.orders} must be a whole number of at least 1`);
    if (!(Number.isInteger(c.netSpent) && c.netSpent >= 0)) throw new RangeError(`a customer's net spent ${c.netSpent} must be whole minor units, 0 or more`);
    if (!Number.isInteger(c.firstOrderDay) || c.firstOrderDay > asOfDay) throw new RangeError(`first order day ${c.firstOrderDay} must be a day index on or before ${asOfDay}`);
    count++;
    orders += c.orders;
    revenue += c.netSpent;
    customerDays += asOfDay - c.firstOrderDay;
    if (c.firstOrderDay < earliestFirstDay) earliestFirstDay = c.firstOrderDay;
  }
  if (count === 0) return null;
  const aov = revenue / orders;
  const repeatOrdersPerYear = customerDays > 0 ? ((orders - count) * YEAR_DAYS) / customerDays : 0;
  const observedLifespanDays = asOfDay - earliestFirstDay;
  // Monthly discounting as the model's (lifetime-value.ts DISCOUNTING_CONVENTION): the orders expected in month k, discounted k months.
  let discountedOrders = 0;
  let previous = 0;
  let factor = 1;
  for (let k = 1; k <= months; k++) {
    const cumulative = expectedOrders(repeatOrdersPerYear, observedLifespanDays, k * MONTH_DAYS);
    factor /= discount;
    discountedOrders += (cumulative - previous) * factor;
    previous = cumulative;
  }
  return {
    version: 1,
    asOfDay,
    customers: count,
    orders,
    revenue,
    aov,
    repeatOrdersPerYear,
    observedLifespanDays,
    horizonDays,
    annualDiscountRate,
    grossMargin,
    expectedPurchases90d: expectedOrders(repeatOrdersPerYear, observedLifespanDays, 90),
    expectedPurchases365d: expectedOrders(repeatOrdersPerYear, observedLifespanDays, 365),
    expectedOrderValue: aov,
    expectedSpend: grossMargin * aov * discountedOrders,
    newCustomerValue: grossMargin * aov * (1 + (repeatOrdersPerYear * observedLifespanDays) / YEAR_DAYS),
  };
}
