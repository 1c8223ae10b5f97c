import { AppProvider } from "@shopify/polaris";
import en from "@shopify/polaris/locales/en.json";
import { renderToString } from "react-dom/server";
import type { CohortsPageData } from "~/pages/cohorts";
import { LtvChart, ltvLinePoints } from "./LtvChart";

const ltv = (byMonth: (number | null)[], byMonthCustomers: number[]): NonNullable<CohortsPageData["ltv"]> => ({ atDays: [], byMonth, byMonthCustomers, paybackMonth: null });
const render = (data: NonNullable<CohortsPageData["ltv"]>) =>
  renderToString(
    <AppProvider i18n={en}>
      <LtvChart page={{ currency: "USD", ltv: data } as CohortsPageData} title="LTV" />
    </AppProvider>,
  );

describe("the cohorts LTV line", () => {
  it("draws the pooled figures by month, rounded to whole minor units, up to the last month with one", () => {
    expect(ltvLinePoints(ltv([6349.4, 6716, null, 7189, null], [282, 267, 0, 249, 0]))).toEqual([
      { month: 0, value: 6349, customers: 282 },
      { month: 1, value: 6716, customers: 267 },
      { month: 3, value: 7189, customers: 249 },
    ]);
  });

  it("says why the pooled line can dip, only when it does", () => {
    expect(render(ltv([100, 120, 110], [30, 20, 10]))).toContain("the line can dip");
    expect(render(ltv([100, 120, 130], [30, 20, 10]))).not.toContain("the line can dip");
  });
});
