import { type Page } from "playwright-core";
import { screenshot } from "./browser";
import { type BacktestAggregate } from "~/data/aggregates";
import { MISSING, ratio } from "~/display/format";
import { COUNT_MODEL_LABELS } from "~/analytics/clv/count-model";
import { type ShopModelJson } from "~/analytics/clv/shop-model";
import { drawnLineValues, moneyValue } from "./charts";
import { demoAppForFile } from "./harness";

// Every merchant page renders with the demo shop's data: its heading, key figures read
// from the rows the refit wrote, no console error and no failed request; a full-page
// screenshot of each is kept in tests/browser/artifacts/. And the keyboard reaches each
// page's main controls.

// A fixed history: with the store ending "now", the 300-customer store's models did not
// converge on 2026-12-06 (the refit said no-predictions, on the landed code too), and the
// pages then had no predictions to show.
const app = demoAppForFile({ label: "pages", customers: 300, endAt: new Date("2026-06-30T12:00:00Z") });

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

async function heading(page: Page): Promise<string> {
  return ((await page.getByRole("heading", { level: 1 }).first().textContent()) ?? "").trim();
}

async function aggregate<T>(kind: string): Promise<T> {
  const { rows } = await app.pool.query<{ data: T }>(`SELECT data FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`, [app.shop, kind]);
  if (!rows[0]) throw new Error(`no ${kind} aggregate for ${app.shop}: did the refit run?`);
  return rows[0].data;
}

/** The largest RFM segment and the customer with the highest predicted CLV (the customers table's first row). */
async function landmarks() {
  const segment = await app.pool.query<{ segment: string; customers: string }>(
    `SELECT segment, count(*) AS customers FROM "CustomerMetrics" WHERE shop = $1 AND segment IS NOT NULL
     GROUP BY segment ORDER BY count(*) DESC, segment LIMIT 1`,
    [app.shop],
  );
  const customer = await app.pool.query<{ id: string; firstName: string; lastName: string; orders: number }>(
    `SELECT cm."customerId"::text AS id, c."firstName", c."lastName", cm.orders
     FROM "CustomerMetrics" cm JOIN "Customer" c ON c.shop = cm.shop AND c.id = cm."customerId"
     WHERE cm.shop = $1 ORDER BY cm."predictedClvMinor" DESC NULLS LAST, cm."customerId" DESC LIMIT 1`,
    [app.shop],
  );
  const orderNames = await app.pool.query<{ name: string }>(
    `SELECT name FROM "Order" WHERE shop = $1 AND "customerId" = $2::bigint ORDER BY "processedAt" DESC`,
    [app.shop, customer.rows[0].id],
  );
  return { segment: segment.rows[0], customer: customer.rows[0], orderNames: orderNames.rows.map((row) => row.name) };
}

describe("the merchant's pages in demo mode, with the demo shop's data", () => {
  it("the refit scored every customer who ordered", async () => {
    expect(app.seeded.refit?.status).toBe("ready");
    const { rows } = await app.pool.query<{ buyers: string; scored: string }>(
      `SELECT count(*) AS buyers, count(cm."customerId") AS scored
       FROM "Customer" c LEFT JOIN "CustomerMetrics" cm ON cm.shop = c.shop AND cm."customerId" = c.id
       WHERE c.shop = $1 AND c."ordersCount" > 0`,
      [app.shop],
    );
    expect(Number(rows[0].buyers)).toBeGreaterThan(200);
    expect(Number(rows[0].scored)).toBe(Number(rows[0].buyers));
  });

  it("dashboard: KPI cards with the shop's customer count, segment charts", async () => {
    const kpis = await aggregate<{ customers: { value: number } }>("kpis");
    const { page, problems } = await app.open("/app");
    expect(await heading(page)).toBe("Dashboard");
    const main = page.locator("main, .Polaris-Page").first();
    await expect(main.textContent()).resolves.toContain(integer.format(kpis.customers.value));
    for (const label of ["Repeat purchase rate", "Customers"]) await expect(page.getByText(label, { exact: false }).first().isVisible()).resolves.toBe(true);
    await screenshot(page, "dashboard");
    expect(problems).toEqual([]);
  });

  it("segments: one row per segment with its customers", async () => {
    const segments = await aggregate<{ rows: { name: string; customers: number; kind: string }[] }>("segments");
    expect(segments.rows.length).toBeGreaterThan(0);
    const { page, problems } = await app.open("/app/segments");
    expect(await heading(page)).toBe("Segments");
    const text = (await page.locator("table").allTextContents()).join(" ");
    for (const row of segments.rows.filter((r) => r.customers > 0)) expect(text).toContain(row.name);
    await screenshot(page, "segments");
    expect(problems).toEqual([]);
  });

  it("segment page: the segment's name, rule, and its customers", async () => {
    const { segment } = await landmarks();
    const { page, problems } = await app.open(`/app/segments/${segment.segment}`);
    const segments = await aggregate<{ rows: { key: string; name: string }[] }>("segments");
    expect(await heading(page)).toBe(segments.rows.find((row) => row.key === segment.segment)?.name);
    await expect(page.getByText(`${integer.format(Number(segment.customers))} customers`).first().isVisible()).resolves.toBe(true);
    expect(await page.locator("tbody tr").count()).toBe(Math.min(50, Number(segment.customers)));
    await screenshot(page, "segment");
    expect(problems).toEqual([]);
  });

  it("customers: the table starts with the customer of highest predicted CLV", async () => {
    const { customer } = await landmarks();
    const { page, problems } = await app.open("/app/customers");
    expect(await heading(page)).toBe("Customers");
    expect(await page.locator("tbody tr").count()).toBe(50);
    await expect(page.locator("tbody tr").first().textContent()).resolves.toContain(`${customer.firstName} ${customer.lastName}`);
    await screenshot(page, "customers");
    expect(problems).toEqual([]);
  });

  it("customer page: name, order timeline and scores", async () => {
    const { customer, orderNames } = await landmarks();
    const { page, problems } = await app.open(`/app/customers/${customer.id}`);
    expect(await heading(page)).toBe(`${customer.firstName} ${customer.lastName}`);
    const text = (await page.locator("body").textContent()) ?? "";
    for (const name of orderNames) expect(text).toContain(name);
    expect(text).toMatch(/P\(alive\)/);
    // The headline churn figure first, P(alive) explained beside it; names with their horizon (issue 13).
    expect(text).toMatch(/Chance of ordering, next 90 days\d+%/);
    expect(text).toMatch(/Chance of ordering, next 12 months\d+%/);
    expect(text).toMatch(/stays below 100% even the day after one/);
    expect(text).toMatch(/Expected spend, next 12 months\$/);
    expect(text).toMatch(/Lifetime value\$/);
    await screenshot(page, "customer");
    expect(problems).toEqual([]);
  });

  it("cohorts: retention by first-order month", async () => {
    const { page, problems } = await app.open("/app/cohorts");
    expect(await heading(page)).toBe("Cohorts");
    await expect(page.getByText(/retention/i).first().isVisible()).resolves.toBe(true);
    await screenshot(page, "cohorts");
    expect(problems).toEqual([]);
  });

  it("cohorts: the LTV line drawn stands at the figures of its table (the final frame, not a half-drawn one)", async () => {
    const { page, problems } = await app.open("/app/cohorts");
    // Read the line as soon as it is drawn (not after the network has been idle for a while): an animating
    // chart's line would still be on its way up from 0, as a screenshot once caught it.
    await page.reload({ waitUntil: "domcontentloaded" });
    const chart = "Cumulative revenue per customer";
    await page.locator(`[role="figure"][aria-label^="${chart}"] mask path`).first().waitFor({ state: "attached" });
    const monthsShown = await page.locator(`[role="figure"][aria-label^="${chart}"] table tbody tr`).count();
    const drawn = await drawnLineValues(page, chart, monthsShown);
    await page.getByRole("button", { name: /^Show the figures by month/ }).click();
    const cells = await page.locator("[data-ltv-by-month] tbody tr").evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll("th, td")].map((cell) => (cell.textContent ?? "").trim())),
    );
    const table = cells.map(([month, value]) => ({ month: Number(month.replace("Month ", "")), value: moneyValue(value) }));
    expect(table.length).toBeGreaterThan(3);
    expect(table[table.length - 1].month + 1).toBe(monthsShown);
    const top = Math.max(...table.map((row) => row.value));
    expect(top).toBeGreaterThan(0);
    for (const row of table) {
      // Within 2% of the largest figure: a pixel or two of a 260-pixel chart.
      expect(Math.abs((drawn[row.month] ?? Number.NaN) - row.value), `month ${row.month}: drawn ${drawn[row.month]}, table ${row.value}`).toBeLessThan(top * 0.02);
    }
    await screenshot(page, "cohorts-ltv");
    expect(problems).toEqual([]);
  });

  it("model: the chosen model", async () => {
    const { rows } = await app.pool.query<{ status: string }>(`SELECT status FROM "ShopFit" WHERE shop = $1`, [app.shop]);
    const { page, problems } = await app.open("/app/model");
    expect(await heading(page)).toBe("Model");
    if (rows[0].status === "ready") await expect(page.getByText("Too little data to predict yet").count()).resolves.toBe(0);
    await screenshot(page, "model");
    expect(problems).toEqual([]);
  });

  it("model: every candidate's log-likelihood and drop-out verdict, its parameters, and whether the choice was a tie, as stored", async () => {
    const { rows } = await app.pool.query<{ model: ShopModelJson | null }>(`SELECT model FROM "ShopFit" WHERE shop = $1`, [app.shop]);
    const model = rows[0]?.model;
    if (!model) throw new Error("the demo shop's refit should have a model");
    const { page, problems } = await app.open("/app/model");
    const cellsOf = (selector: string) =>
      page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("th, td")].map((cell) => (cell.textContent ?? "").trim())));
    const candidates = await cellsOf("[data-model-candidates]");
    const names = Object.keys(model.candidates);
    expect(candidates).toHaveLength(names.length);
    // The chosen first.
    expect(candidates[0][0]).toMatch(/Chosen$/);
    for (const name of names) {
      const fit = model.candidates[name as keyof typeof model.candidates]!;
      const row = candidates.find(([label]) => label.startsWith(`${COUNT_MODEL_LABELS[name as keyof typeof COUNT_MODEL_LABELS]} `) || label === COUNT_MODEL_LABELS[name as keyof typeof COUNT_MODEL_LABELS]);
      expect(row, name).toBeDefined();
      expect(row![1]).toBe(ratio(fit.logLikelihood));
      // No holdout in the refit's choice: candidate, log-likelihood, drop-out, converged.
      expect(row![2]).toBe(fit.boundary ? `Drop-out not identifiable: behaves like plain NBD (plain NBD log-likelihood ${ratio(fit.nestedLogLikelihood!)})` : "Identified");
    }
    // Every candidate's parameters.
    const parameters = await cellsOf("[data-candidate-parameters]");
    const shown = [model.chosen, ...names.filter((name) => name !== model.chosen)];
    const params = (name: string) => model.candidates[name as keyof typeof model.candidates]!.params as unknown as Record<string, number>;
    expect(parameters.map(([, parameter]) => parameter)).toEqual(shown.flatMap((name) => Object.keys(params(name))));
    await expect(page.getByText(model.choiceTie ? /^Tie: yes: the best candidates differed by less than the noise/ : /^Tie: no: the chosen model was better/).count()).resolves.toBe(1);
    expect(problems).toEqual([]);
  });

  it("model: the backtest's Actual line drawn stands at its table's figures, from the first week", async () => {
    const { page, problems } = await app.open("/app/model");
    const chart = "Cumulative repeat purchases by week";
    await page.locator(`[role="figure"][aria-label^="${chart}"] mask path`).first().waitFor({ state: "attached" });
    // The chart's table for screen readers: week, Actual, Predicted (calibration), Predicted (holdout).
    const actual = await page
      .locator(`[role="figure"][aria-label^="${chart}"] table tbody tr`)
      .evaluateAll((rows) => rows.map((row) => Number((row.querySelectorAll("td")[0]?.textContent ?? "").replace(/[^0-9.-]/g, ""))));
    expect(actual.length).toBeGreaterThan(20);
    // The first series drawn is Actual (polaris-viz draws the series in order).
    const drawn = await drawnLineValues(page, chart, actual.length);
    const top = Math.max(...actual);
    expect(top).toBeGreaterThan(0);
    actual.forEach((value, week) => {
      expect(Math.abs((drawn[week] ?? Number.NaN) - value), `week ${week}: drawn ${drawn[week]}, table ${value}`).toBeLessThan(top * 0.03);
    });
    expect(problems).toEqual([]);
  });

  it("model: holdout orders by past repeat orders, the Actual line drawn at its table's figures, 0 to 7+", async () => {
    const { page, problems } = await app.open("/app/model");
    const chart = "Holdout orders per customer, actual and predicted";
    await page.locator(`[role="figure"][aria-label^="${chart}"] mask path`).first().waitFor({ state: "attached" });
    const cells = await page.locator("[data-backtest-groups] tbody tr").evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll("th, td")].map((cell) => (cell.textContent ?? "").trim())),
    );
    expect(cells.map(([group]) => group)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7+"]);
    // The refit's figures, rounded as the page shows them.
    const stored = await aggregate<BacktestAggregate>("backtest");
    const table = stored.result!.conditionalExpectations;
    cells.forEach(([, customers, actual], i) => {
      expect(Number(customers.replace(/,/g, ""))).toBe(table[i].customers);
      if (table[i].actual === null) expect(actual).toBe(MISSING);
      else expect(Number(actual)).toBeCloseTo(table[i].actual!, 2);
    });
    // The chart has the groups with customers, in order; the first series drawn is Actual (polaris-viz draws the series in order).
    const charted = table.filter((row) => row.customers > 0);
    expect(charted.length).toBeGreaterThan(3);
    const drawn = await drawnLineValues(page, chart, charted.length);
    const top = Math.max(...charted.map((row) => row.actual!));
    expect(top).toBeGreaterThan(0);
    charted.forEach((row, k) => {
      expect(Math.abs((drawn[k] ?? Number.NaN) - row.actual!), `${row.frequency} repeat orders: drawn ${drawn[k]}, table ${row.actual}`).toBeLessThan(top * 0.03);
    });
    expect(problems).toEqual([]);
  });

  it("settings: the form with the shop's values", async () => {
    const { page, problems } = await app.open("/app/settings");
    expect(await heading(page)).toBe("Settings");
    await expect(page.getByLabel("Gross margin").inputValue()).resolves.toMatch(/^\d/);
    await expect(page.getByLabel("CLV horizon").inputValue()).resolves.toBe("365");
    await screenshot(page, "settings");
    expect(problems).toEqual([]);
  });

  it("sync status: imports, webhooks and refits", async () => {
    const { page, problems } = await app.open("/app/sync");
    expect(await heading(page)).toBe("Sync status");
    await screenshot(page, "sync");
    expect(problems).toEqual([]);
  });
});

/** What has focus, in words: its role-ish tag, label or text. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return "";
    const labelled = element.getAttribute("aria-label") ?? (element.id ? document.querySelector(`label[for="${element.id}"]`)?.textContent : null);
    return `${element.tagName.toLowerCase()}:${(labelled ?? element.textContent ?? "").trim().replace(/\s+/g, " ")}`;
  });
}

/** Tabs through the page from the top; the focus stops, in order. */
async function tabStops(page: Page, presses: number): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press("Tab");
    stops.push(await focused(page));
  }
  return stops;
}

describe("keyboard", () => {
  it("tab reaches the navigation, the customer table's filters, sortable headings and pagination", async () => {
    const { page, problems } = await app.open("/app/customers");
    // Past the filters, the sortable headings and one link per customer row (50) to the pagination.
    const stops = await tabStops(page, 90);
    for (const stop of [/^a:Dashboard$/, /^input:Search by name or email/, /^select:RFM segment/, /^input:Chance of ordering, next 90 days, from/, /^button:Apply filters/, /^button:.*Spent to date/, /Next page/]) {
      expect(stops).toContainEqual(expect.stringMatching(stop));
    }
    expect(problems).toEqual([]);
  });

  it("tab reaches the money fields and the Save button", async () => {
    const { page } = await app.open("/app/settings");
    const stops = await tabStops(page, 25);
    for (const label of ["Gross margin", "Customer acquisition cost (CAC)", "Discount rate", "CLV horizon"]) {
      expect(stops).toContainEqual(expect.stringMatching(new RegExp(`^input:${label.replace(/[()]/g, "\\$&")}`)));
    }
    expect(stops).toContain("button:Save");
  });
});
