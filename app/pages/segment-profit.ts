import { type SegmentRow } from "~/data/aggregates";
import { inBasis, type PageMoneyBasis } from "./money-basis";

// A segment's money to date in the page's basis (issue 17, review finding 4): on the profit
// basis, the segment's own gross profit from the refit's tally (each customer's net sales less
// the cost of goods of their orders, sales without a known unit cost at the fallback margin),
// not its revenue times one shop-wide margin; with the share of its sales that fell back.

export interface SegmentMoneyToDate {
  /** The segment's total to date in the page's basis; null when unknown. */
  totalMinor: number | null;
  /** Per customer with an order; null without customers. */
  averageMinor: number | null;
  /** Profit basis from the tally: the share of the segment's net sales without a known unit cost (0..1); else null. */
  fellBackShare: number | null;
}

type Row = Pick<SegmentRow, "customers" | "netSpentMinor" | "averageHistoricClvMinor" | "grossProfitMinor" | "uncostedSalesMinor">;

export function segmentMoneyToDate(row: Row, basis: Pick<PageMoneyBasis, "basis" | "factor">): SegmentMoneyToDate {
  // Revenue, or an aggregate stored before the tally kept gross profit: revenue in the basis.
  if (basis.basis !== "profit" || row.grossProfitMinor === undefined) {
    return { totalMinor: inBasis(row.netSpentMinor, basis), averageMinor: inBasis(row.averageHistoricClvMinor, basis), fellBackShare: null };
  }
  const profit = row.grossProfitMinor;
  const fellBack = row.uncostedSalesMinor === undefined || row.netSpentMinor <= 0 ? null : Math.min(1, Math.max(0, row.uncostedSalesMinor / row.netSpentMinor));
  return { totalMinor: profit, averageMinor: row.customers > 0 ? Math.round(profit / row.customers) : null, fellBackShare: fellBack };
}
