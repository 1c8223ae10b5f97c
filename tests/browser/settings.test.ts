import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { type Page } from "playwright-core";
import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// Saving settings in the browser: a valid save says so, stores the values (read back after
// a reload and in ShopSettings) and queues a refit; an invalid value is explained next to
// its field, focused, and nothing is saved.

// A fixed history, as the other browser tests: a store ending "now" changes with the date.
const app = demoAppForFile({ label: "settings", customers: 120, endAt: new Date("2026-06-30T12:00:00Z") });

/** The page's primary action (the Save button in the page header). */
function saveButton(page: Page) {
  return page.getByRole("button", { name: "Save", exact: true }).first();
}

async function storedSettings() {
  const { rows } = await app.pool.query<{ grossMargin: number; horizonDays: number; cacMinor: string | null }>(
    `SELECT "grossMargin", "horizonDays", "cacMinor"::text AS "cacMinor" FROM "ShopSettings" WHERE shop = $1`,
    [app.shop],
  );
  return rows[0] ?? null;
}

describe("settings", () => {
  it("a valid save shows success, the saved values after a reload, and queues a refit", async () => {
    const { page, problems } = await app.open("/app/settings");
    await page.getByLabel("Gross margin").fill("55");
    await page.getByLabel("Customer acquisition cost (CAC)").fill("42.50");
    await page.getByLabel("CLV horizon").fill("180");
    await saveButton(page).click();
    await page.getByText("Settings saved").waitFor();
    await screenshot(page, "settings-saved");

    expect(await storedSettings()).toEqual({ grossMargin: 0.55, horizonDays: 180, cacMinor: "4250" });
    await page.reload({ waitUntil: "networkidle" });
    await expect(page.getByLabel("Gross margin").inputValue()).resolves.toBe("55");
    await expect(page.getByLabel("Customer acquisition cost (CAC)").inputValue()).resolves.toBe("42.50");
    await expect(page.getByLabel("CLV horizon").inputValue()).resolves.toBe("180");

    // The refit the save asked for waits in this file's own queue.
    const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const queue = new Queue("shop-refit", { connection, prefix: process.env.TENURE_QUEUE_PREFIX });
    try {
      const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"]);
      expect(jobs.map((job) => job.data)).toContainEqual({ task: "shop", shop: app.shop, trigger: "settings" });
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      connection.disconnect();
    }
    expect(problems).toEqual([]);
  });

  it("revenue: net sales by default; total sales and a customer tag exclusion save, and the channels read as names (issue 13)", async () => {
    const { page, problems } = await app.open("/app/settings");
    await expect(page.getByLabel("Net sales, as in Shopify's reports (recommended)").isChecked()).resolves.toBe(true);
    // The demo's sales channels by their names, not their codes.
    await page.getByLabel("Online Store", { exact: true }).waitFor();
    await expect(page.getByText("shopify_draft_order", { exact: true }).count()).resolves.toBe(0);
    // Polaris draws its own radio over the input: click the input through it.
    await page.getByLabel("Total sales", { exact: true }).check({ force: true });
    await page.getByLabel("Customer tags").fill("Wholesale");
    await page.getByLabel("Customer tags").press("Enter");
    await saveButton(page).click();
    await page.getByText("Settings saved").waitFor();
    await screenshot(page, "settings-revenue");
    const { rows } = await app.pool.query<{ revenueBasis: string; excludedCustomerTags: string[] }>(
      `SELECT "revenueBasis", "excludedCustomerTags" FROM "ShopSettings" WHERE shop = $1`,
      [app.shop],
    );
    expect(rows[0]).toEqual({ revenueBasis: "total_sales", excludedCustomerTags: ["Wholesale"] });
    await page.reload({ waitUntil: "networkidle" });
    await expect(page.getByLabel("Total sales", { exact: true }).isChecked()).resolves.toBe(true);
    // Back to the default for the other tests of this file.
    await page.getByLabel("Net sales, as in Shopify's reports (recommended)").check({ force: true });
    await saveButton(page).click();
    await page.getByText("Settings saved").waitFor();
    expect(problems).toEqual([]);
  });

  it("an invalid value shows its error next to the field, focused, and nothing is saved", async () => {
    const before = await storedSettings();
    const { page, problems } = await app.open("/app/settings");
    const margin = page.getByLabel("Gross margin");
    await margin.fill("150");
    await saveButton(page).click();
    await page.getByText("Settings not saved").waitFor();

    await expect(margin.getAttribute("aria-invalid")).resolves.toBe("true");
    // The message is the field's own (aria-describedby) and sits right under it.
    const errorId = ((await margin.getAttribute("aria-describedby")) ?? "").split(/\s+/).find((id) => id.endsWith("Error"));
    expect(errorId).toBeTruthy();
    const message = page.locator(`[id="${errorId}"]`);
    await expect(message.textContent()).resolves.toMatch(/at most 100/);
    const [field, error] = await Promise.all([margin.boundingBox(), message.boundingBox()]);
    expect(error!.y).toBeGreaterThanOrEqual(field!.y + field!.height - 1);
    expect(error!.y - (field!.y + field!.height)).toBeLessThan(80);
    await expect(margin.evaluate((element) => element === document.activeElement)).resolves.toBe(true);
    await screenshot(page, "settings-invalid");

    expect(await storedSettings()).toEqual(before);
    // The answer to an invalid form is a 4xx on the action; nothing else may fail.
    expect(problems.filter((problem) => !/^4\d\d POST .*\/app\/settings/.test(problem.text) && !/status of 4\d\d/.test(problem.text))).toEqual([]);
  });
});
