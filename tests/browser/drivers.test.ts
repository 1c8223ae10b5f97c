import { type Page } from "playwright-core";
import { type DriversAggregate } from "~/data/aggregates";
import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// The acquisition drivers page (issue 17) in demo mode: a table per first-order dimension
// from the refit's drivers row, each sortable in the browser, each value opening the
// customers it describes in the customer table; the time between orders with its
// histograms drawn (the screenshot waits for the bars' final frames).

const app = demoAppForFile({ label: "drivers", customers: 300, endAt: new Date("2026-06-30T12:00:00Z") });
const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

async function drivers(): Promise<DriversAggregate> {
  const { rows } = await app.pool.query<{ data: DriversAggregate }>(`SELECT data FROM "ShopAggregate" WHERE shop = $1 AND kind = 'drivers'`, [app.shop]);
  if (!rows[0]) throw new Error("no drivers aggregate: did the refit run?");
  return rows[0].data;
}

/** The first column's values (their links' text, without the Small badge) in the section headed `heading`. */
async function firstColumn(page: Page, heading: string): Promise<string[]> {
  const section = page.locator("section", { has: page.getByRole("heading", { name: heading }) });
  return section
    .locator("tbody tr > :first-child")
    .evaluateAll((cells) => cells.map((cell) => (cell.querySelector("a")?.textContent ?? cell.textContent ?? "").trim()));
}

/** Waits until every histogram's bars are drawn and have stopped moving (polaris-viz animates them in). */
async function barsSettled(page: Page): Promise<void> {
  const heights = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('[role="figure"][aria-label^="Days from the"] svg rect, [role="figure"][aria-label^="Days from the"] svg path')]
        .map((el) => Math.round((el as SVGGraphicsElement).getBBox().height))
        .join(","),
    );
  await page.waitForFunction(() => document.querySelectorAll('[role="figure"][aria-label^="Days from the"] svg').length > 0);
  let before = await heights();
  for (let tries = 0; tries < 50; tries++) {
    await page.waitForTimeout(100);
    const now = await heights();
    if (now === before && now !== "") return;
    before = now;
  }
  throw new Error("the histograms' bars never settled");
}

describe("acquisition drivers page", () => {
  it("shows a table per first-order dimension with the refit's figures, and the time between orders", async () => {
    const report = await drivers();
    const { page, problems } = await app.open("/app/drivers");
    await expect(page.getByRole("heading", { level: 1 }).first().textContent()).resolves.toBe("Acquisition drivers");
    for (const heading of ["First product", "First discount code", "Sales channel", "Marketing source", "Month of the first order", "Time between orders"]) {
      await expect(page.getByRole("heading", { name: heading }).first().isVisible(), heading).resolves.toBe(true);
    }
    // The product table lists the refit's values, most customers first, with their customer counts.
    const products = report.tables.find((t) => t.key === "firstProduct")!;
    expect((await firstColumn(page, "First product")).slice(0, 3)).toEqual(products.rows.slice(0, 3).map((r) => r.label));
    const text = (await page.locator("section", { has: page.getByRole("heading", { name: "First product" }) }).textContent()) ?? "";
    expect(text).toContain(integer.format(products.rows[0].customers));
    await barsSettled(page);
    await screenshot(page, "drivers");
    expect(problems).toEqual([]);
  });

  it("sorts a table by a column in the browser", async () => {
    const report = await drivers();
    const { page, problems } = await app.open("/app/drivers");
    const section = page.locator("section", { has: page.getByRole("heading", { name: "First product" }) });
    // Polaris names a sortable heading "sort descending by <heading>".
    await section.getByRole("button", { name: /by Repeat purchase rate$/ }).click();
    const rows = report.tables.find((t) => t.key === "firstProduct")!.rows.filter((r) => r.kind === "value");
    const byRate = [...rows].sort((a, b) => (b.repeatRate ?? -1) - (a.repeatRate ?? -1))[0];
    const first = (await firstColumn(page, "First product"))[0];
    // Descending first (ties keep their order): the first row has the highest repeat rate.
    expect(rows.find((r) => r.label === first)?.repeatRate).toBe(byRate.repeatRate);
    expect(problems).toEqual([]);
  });

  it("a value opens the customer table filtered to the customers it describes", async () => {
    const report = await drivers();
    const codes = report.tables.find((t) => t.key === "discountCode")!;
    const none = codes.rows.find((r) => r.kind === "none")!;
    const { page, problems } = await app.open("/app/drivers");
    const section = page.locator("section", { has: page.getByRole("heading", { name: "First discount code" }) });
    await Promise.all([page.waitForURL(/\/app\/customers\?/), section.getByRole("link", { name: "No code", exact: true }).click()]);
    const url = new URL(page.url());
    expect([url.searchParams.get("acquiredBy"), url.searchParams.get("acquiredValue")]).toEqual(["discountCode", ""]);
    await page.getByText("Customers whose first discount code was none").waitFor();
    await expect(page.locator("main, .Polaris-Page").first().textContent()).resolves.toContain(`${integer.format(none.customers)} customers`);
    await screenshot(page, "customers-acquired-filter");
    expect(problems).toEqual([]);
  });
});
