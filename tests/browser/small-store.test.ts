import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// A store below the model's minimums (issue 13, small stores): its pages show expected spend
// from the estimate from averages and say so, with the same figure the refit stored.

const app = demoAppForFile({ label: "small", customers: 30, endAt: new Date("2026-06-30T12:00:00Z") });

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

describe("a small store's pages", () => {
  it("show the estimate from averages, labelled, wherever expected spend is shown", async () => {
    const { rows } = await app.pool.query<{ status: string; predictionSource: string; expectedSpend: number }>(
      `SELECT status, "predictionSource", ("averagesEstimate" ->> 'expectedSpend')::float AS "expectedSpend" FROM "ShopFit" WHERE shop = $1`,
      [app.shop],
    );
    expect(rows[0]).toMatchObject({ status: "no-predictions", predictionSource: "averages" });
    const estimate = usd.format(Math.round(rows[0].expectedSpend) / 100);

    const dashboard = await app.open("/app");
    await expect(dashboard.page.getByText("Expected spend is an estimate from averages").count()).resolves.toBe(1);
    await screenshot(dashboard.page, "small-store-dashboard");
    expect(dashboard.problems).toEqual([]);

    const model = await app.open("/app/model");
    await expect(model.page.getByRole("heading", { name: "Estimate from averages" }).count()).resolves.toBe(1);
    await expect(model.page.getByText(estimate, { exact: true }).count()).resolves.toBeGreaterThan(0);
    await screenshot(model.page, "small-store-model");
    expect(model.problems).toEqual([]);

    const { rows: customers } = await app.pool.query<{ id: string; clv: string }>(
      `SELECT "customerId"::text AS id, "predictedClvMinor"::text AS clv FROM "CustomerMetrics" WHERE shop = $1 AND orders > 0 ORDER BY "customerId" LIMIT 1`,
      [app.shop],
    );
    expect(Number(customers[0].clv)).toBe(Math.round(rows[0].expectedSpend));
    const customer = await app.open(`/app/customers/${customers[0].id}`);
    await expect(customer.page.getByText("Expected spend is an estimate from averages").count()).resolves.toBe(1);
    await expect(customer.page.getByText(/the same for every customer, until there is enough history for the model/).count()).resolves.toBe(1);
    await expect(customer.page.getByText("No prediction: historic value only.").count()).resolves.toBe(0);
    await screenshot(customer.page, "small-store-customer");
    expect(customer.problems).toEqual([]);
  });
});
