import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// Settings' "Tag customers in Shopify with their Tenure segment" in the browser (issue 15):
// off by default; checking it saves at once (its own request, not the form's Save), says what
// happens next, and stays checked after a reload; the setting is stored and the shop's Shopify
// write-back wants a full pass; unchecking turns it off again.

const app = demoAppForFile({ label: "settings-tags", customers: 60, endAt: new Date("2026-06-30T12:00:00Z") });

async function stored() {
  const { rows } = await app.pool.query<{ on: boolean | null; wanted: string | null }>(
    `SELECT (SELECT "shopifyTags" FROM "ShopSettings" WHERE shop = $1) AS on,
            (SELECT "fullWantedReason" FROM "Destination" WHERE shop = $1 AND kind = 'shopify') AS wanted`,
    [app.shop],
  );
  return rows[0];
}

describe("settings: Shopify tags", () => {
  it("switches on at once with a sentence, stays on after a reload, and switches off", async () => {
    const { page, problems } = await app.open("/app/settings");
    const box = page.getByLabel("Tag customers in Shopify with their Tenure segment");
    await expect(box.isChecked()).resolves.toBe(false);
    await app.pool.query(`UPDATE "Destination" SET "fullWantedAt" = NULL, "fullWantedReason" = NULL WHERE shop = $1 AND kind = 'shopify'`, [app.shop]);

    // Polaris draws its own checkbox over the input: click the input through it.
    await box.check({ force: true });
    await page.getByText(/Tagging customers in Shopify: each scored customer gets tenure-<segment>/).waitFor();
    await screenshot(page, "settings-shopify-tags");
    expect(await stored()).toEqual({ on: true, wanted: "settings" });

    await page.reload({ waitUntil: "networkidle" });
    await expect(page.getByLabel("Tag customers in Shopify with their Tenure segment").isChecked()).resolves.toBe(true);
    await page.getByLabel("Tag customers in Shopify with their Tenure segment").uncheck({ force: true });
    await page.getByText(/Tagging is off: Tenure removes its tenure-<segment> tags/).waitFor();
    expect((await stored())?.on).toBe(false);
    expect(problems).toEqual([]);
  });
});
