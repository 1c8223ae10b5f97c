import { type ShopCosts } from "~/data/aggregates";
import { type MoneyBasis } from "~/display/glossary";

// One money basis per page (issue 13): every money figure on a page is revenue, or every one
// is profit (revenue × the gross margin from Settings), chosen by the page's toggle and kept
// in the URL (?basis=profit), so a link shows what its sender saw. Revenue is the default:
// it is what Shopify's own reports show, so an owner can check Tenure's figures against
// them; profit is one click away once a margin is set. Figures are stored in revenue (the
// refit fits with a margin of 1) and the margin is applied here, where they are shown.

export interface PageMoneyBasis {
  basis: MoneyBasis;
  /** Where the profit margin comes from: the shop's product costs (issue 17) or the margin in Settings. */
  marginSource?: "costs" | "setting";
  /** With costs: the share of net sales whose unit cost is known (the rest fell back to the margin in Settings). */
  costCoverage?: number;
  /** Multiplies a stored revenue amount into the page's basis. */
  factor: number;
  /** Whether the page offers the toggle (a margin below 100% is set); without it, every amount is revenue and labels need not say so. */
  toggle: boolean;
  grossMargin: number;
}

/** Profit is the default basis where known unit costs cover at least this share of net sales (issue 17). */
export const PROFIT_DEFAULT_COVERAGE = 0.8;

/**
 * The share of revenue kept as gross profit: the shop's own profit margin to date once any
 * product cost is known (issue 17), else the gross margin in Settings.
 */
export function profitMarginOf(grossMargin: number, costs?: ShopCosts | null): number {
  const fromCosts = costs != null && costs.profitMargin !== null && (costs.coverage ?? 0) > 0;
  return fromCosts ? Math.min(1, Math.max(0, costs.profitMargin as number)) : grossMargin;
}

/**
 * The page's basis from its URL and the shop's margin; "profit" without a margin reads as
 * revenue. With product costs (`costs`, the refit's kpis: issue 17) the margin is the shop's
 * own gross profit over net sales to date, and profit is the default where costs cover at
 * least PROFIT_DEFAULT_COVERAGE of net sales (?basis=revenue switches back).
 */
export function moneyBasisOf(params: URLSearchParams, grossMargin: number, costs?: ShopCosts | null): PageMoneyBasis {
  const fromCosts = costs != null && costs.profitMargin !== null && (costs.coverage ?? 0) > 0;
  const margin = profitMarginOf(grossMargin, costs);
  const toggle = margin > 0 && margin < 1;
  const asked = params.get("basis");
  const byDefault: MoneyBasis = fromCosts && (costs.coverage ?? 0) >= PROFIT_DEFAULT_COVERAGE ? "profit" : "revenue";
  const basis: MoneyBasis = !toggle ? "revenue" : asked === "profit" || asked === "revenue" ? asked : byDefault;
  const page: PageMoneyBasis = { basis, factor: basis === "profit" ? margin : 1, toggle, grossMargin: margin };
  if (fromCosts) {
    page.marginSource = "costs";
    page.costCoverage = costs.coverage ?? 0;
  }
  return page;
}

/** A stored revenue amount (whole minor units) in the page's basis, rounded to a whole minor unit; null kept. */
export function inBasis(minor: number | null | undefined, basis: Pick<PageMoneyBasis, "factor">): number | null {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return null;
  return basis.factor === 1 ? minor : Math.round(minor * basis.factor);
}

/** The basis a label names: null when the page offers no choice (everything is revenue). */
export function labelBasis(basis: Pick<PageMoneyBasis, "basis" | "toggle">): MoneyBasis | null {
  return basis.toggle ? basis.basis : null;
}
