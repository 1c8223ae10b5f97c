import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// Every merchant page renders with the demo shop's data: its heading, its key figures,
// no console error and no failed request; a screenshot of each is kept as an artifact.

const app = demoAppForFile({ label: "pages", customers: 300 });

describe("the merchant's pages in demo mode", () => {
  it("the dashboard renders with the demo shop's counts", async () => {
    const { page, problems } = await app.open("/app");
    await screenshot(page, "dashboard");
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toMatch(/\S/);
    expect(problems).toEqual([]);
  });
});
