import { existsSync } from "node:fs";
import {
  type CustomerBlockData,
  customerIdOfGid,
  loadBlockState,
  metricsPath,
  parseCustomerBlockResponse,
  stateOfResponse,
} from "../../extensions/tenure-customer-block/src/customer-block";

// The customer details block's logic (extensions/tenure-customer-block/src/customer-block.ts):
// which customer it asks about, and what each answer of the app route turns into. The
// route's real answers are fed to the same parser in tests/pages/customer-block.test.ts.

const scored: CustomerBlockData = {
  customerId: "42",
  tenurePath: "/app/customers/42",
  metrics: {
    segment: { key: "champions", name: "Champions" },
    expectedSpend: { label: "Expected spend, next 12 months", value: 12_345, text: "$123.45" },
    spentToDate: { label: "Spent to date", value: 50_000, text: "$500.00" },
    chanceOfOrder90d: { label: "Chance of ordering, next 90 days", value: 0.42, text: "42%" },
    expectedNextOrder: { label: "Expected next order", value: null, text: "—" },
    scoredAsOf: { label: "Scored as of", value: "2026-12-05", text: "Dec 5, 2026" },
    currency: "USD",
  },
};

type FakeResponse = { status: number; json(): Promise<unknown> };
const answer = (status: number, body: unknown): FakeResponse => ({ status, json: async () => body });

describe("the customer details block's logic", () => {
  it("asks about the customer admin shows, by the numeric id of its GID, on a relative path admin signs", () => {
    expect(customerIdOfGid("gid://shopify/Customer/7390000000001")).toBe("7390000000001");
    for (const other of ["gid://shopify/Order/1", "gid://shopify/Customer/", "gid://shopify/Customer/1/2", "7", "", null, undefined]) {
      expect(customerIdOfGid(other), String(other)).toBeNull();
    }
    expect(metricsPath("42")).toBe("/api/customers/42/metrics");
  });

  it("links to the customer's page in Tenure with admin's app: protocol, a route the app has", () => {
    const state = stateOfResponse(200, scored);
    expect(state.kind === "scored" && state.view.link).toBe("app:app/customers/42");
    expect(existsSync(new URL("../../app/routes/app.customers.$id.tsx", import.meta.url))).toBe(true);
  });

  it("shows a scored customer's segment and figures in the issue's order, the day they are as of, and a one-line summary", () => {
    const state = stateOfResponse(200, scored);
    expect(state).toEqual({
      kind: "scored",
      view: {
        segmentName: "Champions",
        segmentKey: "champions",
        rows: [
          { label: "Segment", text: "Champions" },
          { label: "Expected spend, next 12 months", text: "$123.45" },
          { label: "Spent to date", text: "$500.00" },
          { label: "Chance of ordering, next 90 days", text: "42%" },
          { label: "Expected next order", text: "—" },
        ],
        asOfText: "Scored as of Dec 5, 2026",
        link: "app:app/customers/42",
        summary: "Champions · 42% chance of ordering in 90 days",
      },
    });
    const noChance = { ...scored, metrics: { ...scored.metrics!, chanceOfOrder90d: { ...scored.metrics!.chanceOfOrder90d, value: null, text: "—" } } };
    expect(stateOfResponse(200, noChance)).toMatchObject({ view: { summary: "Champions" } });
  });

  it("says 'not scored yet' for a known customer without scores (with the link) and for one Tenure has not seen (404)", () => {
    expect(stateOfResponse(200, { ...scored, metrics: null })).toMatchObject({ kind: "not-scored", link: "app:app/customers/42" });
    expect(stateOfResponse(404, { error: "Tenure has no such customer in this shop yet." })).toMatchObject({ kind: "not-scored", link: null });
  });

  it("shows an error, never figures, for a refused session, a server error and an answer of another shape", () => {
    expect(stateOfResponse(401, undefined)).toMatchObject({ kind: "error", message: expect.stringContaining("session") });
    expect(stateOfResponse(500, { error: "boom" })).toEqual({ kind: "error", message: "Tenure could not load this customer's figures (error 500). boom" });
    expect(stateOfResponse(400, { error: "A customer id is a whole number." })).toMatchObject({ kind: "error" });
    const broken: unknown[] = [
      undefined,
      "text",
      { ...scored, customerId: 42 },
      { ...scored, metrics: { ...scored.metrics, chanceOfOrder90d: { label: "x", value: "0.4", text: "40%" } } },
      { ...scored, metrics: { ...scored.metrics, segment: { key: 1, name: "Champions" } } },
      { ...scored, metrics: { ...scored.metrics, scoredAsOf: undefined } },
    ];
    for (const body of broken) {
      expect(parseCustomerBlockResponse(body), JSON.stringify(body)).toBeNull();
      expect(stateOfResponse(200, body).kind).toBe("error");
    }
  });

  it("loads through the given fetch, and turns a network failure or a body that is not JSON into the error state", async () => {
    const asked: string[] = [];
    const state = await loadBlockState("gid://shopify/Customer/42", async (input) => {
      asked.push(input);
      return answer(200, scored);
    });
    expect(asked).toEqual(["/api/customers/42/metrics"]);
    expect(state.kind).toBe("scored");
    expect(await loadBlockState("gid://shopify/Customer/42", async () => Promise.reject(new TypeError("Failed to fetch")))).toMatchObject({
      kind: "error",
      message: expect.stringContaining("could not be reached"),
    });
    const notJson: FakeResponse = { status: 502, json: async () => Promise.reject(new SyntaxError("Unexpected token <")) };
    expect(await loadBlockState("gid://shopify/Customer/42", async () => notJson)).toMatchObject({ kind: "error", message: expect.stringContaining("502") });
    let called = false;
    expect(await loadBlockState("gid://shopify/Product/1", async () => ((called = true), answer(200, scored)))).toMatchObject({ kind: "error" });
    expect(called, "no request without a customer").toBe(false);
  });
});
