import { type MoneyBasis } from "~/display/glossary";

// One money basis per page (issue 13): every money figure on a page is revenue, or every one
// is profit (revenue × the gross margin from Settings), chosen by the page's toggle and kept
// in the URL (?basis=profit), so a link shows what its sender saw. Revenue is the default:
// it is what Shopify's own reports show, so an owner can check Tenure's figures against
// them; profit is one click away once a margin is set. Figures are stored in revenue (the
// refit fits with a margin of 1) and the margin is applied here, where they are shown.

export interface PageMoneyBasis {
  basis: MoneyBasis;
  /** Multiplies a stored revenue amount into the page's basis. */
  factor: number;
  /** Whether the page offers the toggle (a margin below 100% is set); without it, every amount is revenue and labels need not say so. */
  toggle: boolean;
  grossMargin: number;
}

/** The page's basis from its URL and the shop's margin; "profit" without a margin reads as revenue. */
export function moneyBasisOf(params: URLSearchParams, grossMargin: number): PageMoneyBasis {
  const toggle = grossMargin > 0 && grossMargin < 1;
  const basis: MoneyBasis = toggle && params.get("basis") === "profit" ? "profit" : "revenue";
  return { basis, factor: basis === "profit" ? grossMargin : 1, toggle, grossMargin };
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
