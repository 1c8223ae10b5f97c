// Industry benchmarks shown beside the dashboard's KPIs. INDICATIVE ONLY: published
// surveys of other stores, measured over their own periods and definitions, not a standard
// a store must meet. Each figure carries its source and caveat so the page can say so.
// Only KPIs with a published, comparable figure have one; the others show none rather than
// a guess (AOV and CLV depend too much on price point and currency to compare).

export interface Benchmark {
  /** The figure, in the KPI's unit (a share 0..1 for rates). */
  value: number;
  label: string;
}

export interface BenchmarkSet {
  /** The headline figure shown beside the KPI. */
  headline: Benchmark;
  /** Figures by niche, for merchants who want to compare with their own category. */
  byNiche: Benchmark[];
  source: string;
  sourceUrl: string;
  caveat: string;
}

export type BenchmarkedKpi = "repeatPurchaseRate";

export const BENCHMARKS: Readonly<Record<BenchmarkedKpi, BenchmarkSet>> = {
  repeatPurchaseRate: {
    headline: { value: 0.28, label: "DTC average" },
    byNiche: [
      { value: 0.21, label: "Tea" },
      { value: 0.245, label: "Own food products" },
      { value: 0.26, label: "Beauty" },
      { value: 0.26, label: "Apparel" },
      { value: 0.29, label: "Meal delivery" },
      { value: 0.29, label: "Supplements" },
      { value: 0.3, label: "Coffee" },
      { value: 0.315, label: "Pet products" },
      { value: 0.33, label: "High-performance sports clothing" },
      { value: 0.36, label: "CBD" },
    ],
    source: "Metrilo survey of direct-to-consumer stores (retention rate by niche)",
    sourceUrl: "https://www.metrilo.com/glossary/retention-rate",
    caveat:
      "Indicative only: other stores' repeat rates over their own periods. Tenure counts customers with 2 or more orders among all customers with an order, over your whole history, so young stores read lower.",
  },
};
