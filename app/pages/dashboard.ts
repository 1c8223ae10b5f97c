import { type KpiValue } from "~/data/aggregates";
import { BENCHMARKS, type BenchmarkSet } from "~/display/benchmarks";
import { type Change, change, count, days, money, percent, ratio } from "~/display/format";
import { expectedSpendLabel, horizonText, withBasis } from "~/display/glossary";
import type { DashboardData } from "./dashboard.server";
import { inBasis, labelBasis, type PageMoneyBasis } from "./money-basis";

// The dashboard's key figures as the page shows them (no server code): names with their
// horizon, every amount in the page's money basis and labelled with it (issue 13).

export interface KpiFigure {
  /** Glossary term of the label. */
  term: string;
  label: string;
  value: string;
  /** Money figures are in the page's basis; the test checks they all move together. */
  money: boolean;
  help?: string;
  change?: Change;
  goodWhen?: "up" | "down" | "neutral";
  periodLabel?: string;
  benchmark?: { set: BenchmarkSet; formatted: string };
}

export function kpiFigures(data: DashboardData, basis: PageMoneyBasis): KpiFigure[] {
  const k = data.kpis;
  if (!k) return [];
  const period = `vs ${k.periodDays} days ago`;
  const named = (label: string) => withBasis(label, labelBasis(basis));
  const unit = basis.basis;
  const moneyOf = (v: number | null) => money(inBasis(v, basis), data.currency);
  const figure = (kpi: KpiValue, format: (v: number | null) => string, measure: "relative" | "points" = "relative") => ({
    value: format(kpi.value),
    change: change(kpi.value, kpi.previous, measure, format),
    periodLabel: period,
  });
  const rate = BENCHMARKS.repeatPurchaseRate;
  const horizon = horizonText(data.horizonDays);
  const expected = k.averagePredictedClvMinor.value;
  return [
    { term: "customers", label: "Customers", money: false, ...figure(k.customers, count), help: "Customers with at least one order." },
    {
      term: "repeat-purchase-rate",
      label: "Repeat purchase rate",
      money: false,
      ...figure(k.repeatPurchaseRate, (v) => percent(v), "points"),
      benchmark: { set: rate, formatted: percent(rate.headline.value, 0) },
      help: "Customers with 2 or more orders, of customers with an order.",
    },
    { term: "aov", label: named("Average order value"), money: true, ...figure(k.aovMinor, moneyOf), help: `${capitalised(unit)} divided by orders, so far.` },
    { term: "orders-per-customer", label: "Orders per customer", money: false, ...figure(k.ordersPerCustomer, ratio) },
    {
      term: "median-days-between-orders",
      label: "Median days between orders",
      money: false,
      ...figure(k.medianDaysBetweenOrders, days),
      goodWhen: "down",
      help: "Between one order and the customer's next.",
    },
    { term: "spent-to-date", label: named("Avg spent to date"), money: true, ...figure(k.averageHistoricClvMinor, moneyOf), help: `${capitalised(unit)} per customer so far.` },
    {
      term: "expected-spend",
      label: named(`Avg ${expectedSpendLabel(data.horizonDays).toLowerCase()}`),
      money: true,
      ...figure(k.averagePredictedClvMinor, moneyOf),
      help:
        expected === null
          ? "No predictions yet."
          : `${capitalised(unit)} per customer expected in the next ${horizon} only, not over a lifetime: lifetime value adds what they spent to date.`,
    },
    {
      term: "lifetime-value",
      label: named("Avg lifetime value"),
      money: true,
      // Both parts over the customers with a prediction; unknown in aggregates stored before (the next refit writes it).
      ...figure(k.averageLifetimeValueMinor ?? { value: null, previous: null }, moneyOf),
      help: `Spent to date + expected spend over the next ${horizon}, per customer with a prediction.`,
    },
    {
      term: "chance-of-ordering-90d",
      label: "Avg chance of ordering, next 90 days",
      money: false,
      value: percent(data.averageChanceOfOrder90d, 0),
      help: "The model's chance that a customer orders at least once in the next 90 days, averaged over customers.",
    },
    {
      term: "revenue-in-period",
      label: `${capitalised(unit)}, last ${k.periodDays} days`,
      money: true,
      ...figure(k.periodNetRevenueMinor, moneyOf),
      periodLabel: `vs the ${k.periodDays} days before`,
      help: `${count(k.periodOrders.value)} orders in the period.`,
    },
  ];
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
