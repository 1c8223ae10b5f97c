import { type Locator, type Page } from "playwright-core";
import { shopifySegmentQuery } from "~/destinations/shopify/segment-query";
import { segmentName } from "~/display/segment-names";
import { segmentQueryProblem } from "../../demo/fakes/shopify-rules";
import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// The merchant's flow of publishing a segment to Shopify (issue 15), in demo mode with the
// demo's fake Shopify Admin API behind the server (harness.ts: SHOPIFY_ADMIN_API_URL, the
// metafield definitions made as an install makes them). On the Segments page, "Publish to
// Shopify" on a row sends one segmentCreate whose query the fake checks against the segment
// query grammar and its definitions; the row then shows the segment's name in Shopify and
// its link in Shopify admin. A relabel in Settings renames it in Shopify on its own (a
// segmentUpdate of the name only; in demo mode the web process sends it right after the save,
// elsewhere the worker): no click on the Segments page.

// A fixed history, as the other browser tests: a store ending "now" changes with the date.
const app = demoAppForFile({ label: "publish", customers: 120, endAt: new Date("2026-06-30T12:00:00Z") });

const KEY = "champions";
const RELABEL = "Best customers";

/** The Segments page's row of one segment, found by its name's link. */
function segmentRow(page: Page, name: string): Locator {
  return page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
}

async function storedPublication() {
  const { rows } = await app.pool.query<{ shopifySegmentId: string; name: string; query: string }>(
    `SELECT "shopifySegmentId", name, query FROM "ShopifySegment" WHERE shop = $1 AND "segmentKey" = $2`,
    [app.shop, KEY],
  );
  return rows[0] ?? null;
}

describe("publishing a segment to Shopify from the Segments page (demo mode, fake Shopify)", () => {
  it("publishes the segment with its metafield query, then shows its name in Shopify and its link in Shopify admin", async () => {
    const fake = app.fakes.shopify;
    const { page, problems } = await app.open("/app/segments");
    const name = segmentName(KEY);
    const row = segmentRow(page, name);
    await row.getByRole("button", { name: "Publish to Shopify" }).click();

    const shopifyName = `Tenure: ${name}`;
    await row.getByText(`"${shopifyName}" is now a customer segment in Shopify.`, { exact: false }).waitFor();
    await row.getByText(`In Shopify as “${shopifyName}”`).waitFor();
    await screenshot(page, "segments-published");

    // One segmentCreate, valid: the name, and the query on the namespace "$app" resolved to.
    const creates = fake.requestsFor("segmentCreate(");
    expect(creates).toHaveLength(1);
    const query = shopifySegmentQuery(KEY, fake.appNamespace);
    expect(creates[0].variables).toEqual({ name: shopifyName, query });
    expect(query).toBe(`metafields.${fake.appNamespace}.rfm_segment = '${KEY}'`);
    expect(segmentQueryProblem(query, fake.data.definitions)).toBeNull();
    expect(fake.data.segments).toEqual([expect.objectContaining({ name: shopifyName, query })]);
    const created = fake.data.segments[0];

    // The link opens the segment's page in Shopify admin, in the top frame (outside the app's iframe).
    const link = row.getByRole("link", { name: "Open in Shopify" });
    const store = app.shop.replace(/\.myshopify\.com$/, "");
    const numericId = created.id.slice(created.id.lastIndexOf("/") + 1);
    await expect(link.getAttribute("href")).resolves.toBe(`https://admin.shopify.com/store/${store}/customers/segments/${numericId}`);
    await expect(link.getAttribute("target")).resolves.toBe("_top");
    expect(await storedPublication()).toEqual({ shopifySegmentId: created.id, name: shopifyName, query });

    // A reload reads the same state from the database.
    await page.reload({ waitUntil: "networkidle" });
    await segmentRow(page, name).getByText(`In Shopify as “${shopifyName}”`).waitFor();
    await expect(segmentRow(page, name).getByRole("button", { name: "Publish to Shopify" }).count()).resolves.toBe(0);
    expect(problems).toEqual([]);
  });

  it("after a relabel in Settings, the Shopify segment is renamed without a click, with a segmentUpdate of the name only", async () => {
    const fake = app.fakes.shopify;
    const published = await storedPublication();
    expect(published).not.toBeNull();

    const settings = await app.open("/app/settings");
    await settings.page.locator(`#settings-segmentLabels-${KEY}`).fill(RELABEL);
    await settings.page.getByRole("button", { name: "Save", exact: true }).first().click();
    await settings.page.getByText("Settings saved").waitFor();
    expect(settings.problems).toEqual([]);

    // The Segments page, opened straight after the save, already shows the new name in Shopify: nothing to click.
    const { page, problems } = await app.open("/app/segments");
    const row = segmentRow(page, RELABEL);
    const shopifyName = `Tenure: ${RELABEL}`;
    await row.getByText(`In Shopify as “${shopifyName}”`).waitFor();
    await expect(row.getByRole("button", { name: "Update the name in Shopify" }).count()).resolves.toBe(0);
    await expect(row.getByRole("button", { name: "Update in Shopify" }).count()).resolves.toBe(0);
    await screenshot(page, "segments-renamed");

    const updates = fake.requestsFor("segmentUpdate(");
    expect(updates).toHaveLength(1);
    // The query did not change: only the name is sent (undefined variables are left out of the JSON).
    expect(updates[0].variables).toEqual({ id: published!.shopifySegmentId, name: shopifyName });
    expect(fake.requestsFor("segmentCreate(")).toHaveLength(1);
    expect(fake.data.segments).toEqual([expect.objectContaining({ id: published!.shopifySegmentId, name: shopifyName, query: published!.query })]);
    expect(await storedPublication()).toEqual({ ...published, name: shopifyName });
    expect(problems).toEqual([]);
  });
});
