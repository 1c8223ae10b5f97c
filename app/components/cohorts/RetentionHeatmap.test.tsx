import { AppProvider } from "@shopify/polaris";
import en from "@shopify/polaris/locales/en.json";
import { renderToString } from "react-dom/server";
import type { CohortView } from "~/pages/cohorts";
import { MUTED_CELL, RetentionHeatmap, cellColour, heatScaleMax } from "./RetentionHeatmap";

// The heatmap's colour scale (issue 13): a 2-customer cohort with 50% in month 1 must not be
// the darkest cell and set the scale for the cohorts of hundreds.

function cohort(month: string, size: number, small: boolean, activeShare: (number | null)[]): CohortView {
  return {
    month,
    size,
    small,
    repeatPurchaseRate: null,
    activeShare,
    cumulativeReturnShare: activeShare.map((_, k) => (k === 0 ? 0 : 0.1)),
    ltvByMonth: [],
    ltvAtDays: [],
    ltvToCacAtDays: [],
    paybackMonth: null,
  };
}

const big = cohort("2026-01", 400, false, [1, 0.2, 0.1]);
const tiny = cohort("2026-02", 2, true, [1, 0.5, null]);

describe("retention heatmap colours", () => {
  it("scales to the cohorts that are not small", () => {
    expect(heatScaleMax([big, tiny], "inMonth")).toBe(0.2);
    // The big cohort's best month is the darkest colour, not half of the tiny cohort's 50%.
    expect(cellColour(big, 1, 0.2, "inMonth", 0.2).background).toBe("rgba(0, 122, 92, 0.800)");
    expect(heatScaleMax([tiny], "inMonth")).toBe(0);
  });

  it("draws a small cohort muted, whatever its share", () => {
    expect(cellColour(tiny, 1, 0.5, "inMonth", 0.2)).toEqual(MUTED_CELL);
  });

  it("still writes every small cohort's percentages and says why they are grey", () => {
    const html = renderToString(
      <AppProvider i18n={en}>
        <RetentionHeatmap cohorts={[big, tiny]} mode="inMonth" smallCohortSize={30} filterLabel="All customers" />
      </AppProvider>,
    );
    expect(html).toContain("50%");
    expect(html).toMatch(/drawn in grey: the colours compare\s+the larger cohorts only/);
    const allSmall = renderToString(
      <AppProvider i18n={en}>
        <RetentionHeatmap cohorts={[tiny]} mode="inMonth" smallCohortSize={30} filterLabel="All customers" />
      </AppProvider>,
    );
    expect(allSmall).toContain("every cohort here is small, so none is coloured");
  });
});
