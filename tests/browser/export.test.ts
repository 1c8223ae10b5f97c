import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { type Page } from "playwright-core";
import { TENURE_MERGE_FIELDS } from "~/display/mailchimp-merge-fields";
import { segmentName } from "~/display/segment-names";
import { exportFileName, leftOutText, PRESET_LABELS } from "~/pages/export";
import { screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// A merchant downloads a segment from its page (issue 14, section 2) in demo mode: the Export
// menu counts who is left out and why, the download is an attachment with the shop, the
// segment and the date in its name, and its rows are the segment's customers subscribed to
// email marketing, read back from the database; "everyone" adds the others.

const app = demoAppForFile({ label: "export", customers: 150, endAt: new Date("2026-06-30T12:00:00Z") });

interface SegmentCustomers {
  key: string;
  all: { id: string; email: string | null; subscribed: boolean }[];
}

/** The RFM segment with the most customers, its customers' consent made varied (subscribed, not, never asked), whatever the generator chose. */
async function segmentWithVariedConsent(): Promise<SegmentCustomers> {
  const { rows } = await app.pool.query<{ segment: string }>(
    `SELECT segment FROM "CustomerMetrics" WHERE shop = $1 AND segment IS NOT NULL GROUP BY segment ORDER BY count(*) DESC, segment LIMIT 1`,
    [app.shop],
  );
  const key = rows[0].segment;
  await app.pool.query(
    `UPDATE "Customer" SET "emailConsentState" = CASE id % 3 WHEN 0 THEN 'SUBSCRIBED' WHEN 1 THEN 'NOT_SUBSCRIBED' ELSE NULL END WHERE shop = $1`,
    [app.shop],
  );
  const members = await app.pool.query<{ id: string; email: string | null; state: string | null }>(
    `SELECT m."customerId"::text AS id, c.email, c."emailConsentState" AS state
       FROM "CustomerMetrics" m JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      WHERE m.shop = $1 AND m.segment = $2 ORDER BY m."customerId"`,
    [app.shop, key],
  );
  return { key, all: members.rows.map((row) => ({ id: row.id, email: row.email, subscribed: row.email !== null && row.state === "SUBSCRIBED" })) };
}

async function download(path: string, choose: { preset: string; everyone?: boolean }) {
  const { page, problems } = await app.open(path);
  await page.getByRole("button", { name: "Export CSV", exact: true }).click();
  return { page, problems, ...(await downloadFromOpenMenu(page, choose)) };
}

/** Chooses in the open Export menu, downloads, and reads the file back (header row and rows). */
async function downloadFromOpenMenu(page: Page, choose: { preset: string; everyone?: boolean }) {
  const presetChoice = page.getByLabel(choose.preset, { exact: true });
  // The clean-clone CI once saw the menu closed here after the filtered view's full-page
  // screenshot (not reproduced on its own; noted in the issue 17 stop note): open it again.
  if (!(await presetChoice.isVisible())) await page.getByRole("button", { name: "Export CSV", exact: true }).click();
  await presetChoice.check({ force: true });
  if (choose.everyone) await page.getByLabel("Everyone, for analysis (not for sending)").check({ force: true });
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV", exact: true }).click()]);
  const text = readFileSync((await file.path())!, "utf8");
  const records = parse(text, { bom: true }) as string[][];
  return {
    name: file.suggestedFilename(),
    header: records[0],
    rows: parse(text, { columns: true, bom: true }) as Record<string, string>[],
  };
}

/** The menu's sentence for a view, from the database: its customers, and those with an email and subscribed. */
async function countsSentence(where: string, params: unknown[]): Promise<{ sentence: string; subscribedEmails: string[] }> {
  const { rows } = await app.pool.query<{ email: string | null; state: string | null }>(
    `SELECT c.email, c."emailConsentState" AS state
       FROM "CustomerMetrics" m LEFT JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      WHERE m.shop = $1 AND ${where}`,
    [app.shop, ...params],
  );
  const hasEmail = (email: string | null) => (email ?? "").trim() !== "";
  const subscribedEmails = rows.filter((row) => hasEmail(row.email) && row.state === "SUBSCRIBED").map((row) => row.email!.toLowerCase());
  const noEmail = rows.filter((row) => !hasEmail(row.email)).length;
  const sentence = leftOutText({ customers: rows.length, subscribed: subscribedEmails.length, noEmail, notSubscribed: rows.length - noEmail - subscribedEmails.length });
  return { sentence, subscribedEmails: subscribedEmails.sort() };
}

/** Waits until Remix's router has finished navigating and revalidating. */
async function routerIdle(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const router = (window as unknown as { __remixRouter?: { state: { navigation: { state: string }; revalidation: string } } }).__remixRouter;
    return router !== undefined && router.state.navigation.state === "idle" && router.state.revalidation === "idle";
  });
}

describe("export a segment from its page", () => {
  it("downloads the segment's subscribed customers, says who was left out and why, and the rows match the database", async () => {
    const segment = await segmentWithVariedConsent();
    const subscribed = segment.all.filter((customer) => customer.subscribed);
    expect(subscribed.length, "the segment has subscribed customers").toBeGreaterThan(0);
    expect(subscribed.length, "and others to leave out").toBeLessThan(segment.all.length);

    const { page, problems, name, rows } = await download(`/app/segments/${segment.key}`, { preset: PRESET_LABELS.tenure });
    await page.getByText(`${subscribed.length} of ${segment.all.length} customers; ${segment.all.length - subscribed.length} left out`).waitFor();
    await screenshot(page, "segment-export-menu");
    // The shop, the segment and the date in the name.
    const prefix = exportFileName(app.shop, segmentName(segment.key), "").replace(/\.csv$/, "");
    expect(name.slice(0, prefix.length)).toBe(prefix);
    expect(name.slice(prefix.length)).toMatch(/^\d{4}-\d\d-\d\d\.csv$/);
    expect(rows.map((row) => row["Customer ID"])).toEqual(subscribed.map((customer) => customer.id));
    expect(rows.map((row) => row.Email.toLowerCase())).toEqual(subscribed.map((customer) => customer.email!.toLowerCase()));
    expect(new Set(rows.map((row) => row["Email marketing consent"]))).toEqual(new Set(["SUBSCRIBED"]));
    expect(problems).toEqual([]);
  });

  it("with everyone chosen, the file has every customer of the segment, and the Klaviyo preset's header row", async () => {
    const segment = await segmentWithVariedConsent();
    const everyone = await download(`/app/segments/${segment.key}`, { preset: PRESET_LABELS.tenure, everyone: true });
    await everyone.page.getByText("For analysis, not for sending").first().waitFor();
    expect(everyone.rows.map((row) => row["Customer ID"])).toEqual(segment.all.map((customer) => customer.id));

    const klaviyo = await download(`/app/segments/${segment.key}`, { preset: PRESET_LABELS.klaviyo });
    expect(Object.keys(klaviyo.rows[0]).slice(0, 4)).toEqual(["Email", "Phone Number", "First Name", "Last Name"]);
    expect(klaviyo.rows.map((row) => row.Email.toLowerCase()).sort()).toEqual(
      segment.all
        .filter((customer) => customer.subscribed)
        .map((customer) => customer.email!.toLowerCase())
        .sort(),
    );
    expect([...everyone.problems, ...klaviyo.problems]).toEqual([]);
  });
});

describe("export the customer table's view", () => {
  it("the menu's counts follow the filter, and the Mailchimp file holds the filtered view's subscribed customers under the sync's merge field names", async () => {
    const segment = await segmentWithVariedConsent();
    const { page, problems } = await app.open("/app/customers");
    const everyone = await countsSentence("TRUE", []);
    const filtered = await countsSentence("m.segment = $2", [segment.key]);
    expect(filtered.sentence, "the segment's counts differ from the shop's").not.toBe(everyone.sentence);

    const menuButton = page.getByRole("button", { name: "Export CSV", exact: true });
    await menuButton.click();
    await page.getByText(everyone.sentence, { exact: true }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByText(everyone.sentence, { exact: true }).waitFor({ state: "hidden" });

    // Filter the table: the menu stays on the page, and opening it again counts the new view.
    await page.getByLabel("RFM segment").selectOption(segment.key);
    await Promise.all([page.waitForURL((url) => url.searchParams.get("segment") === segment.key), page.getByRole("button", { name: "Apply filters" }).click()]);
    await routerIdle(page);
    await menuButton.click();
    await page.getByText(filtered.sentence, { exact: true }).waitFor();
    expect(await page.getByText(everyone.sentence, { exact: true }).count()).toBe(0);
    await screenshot(page, "customers-export-menu-filtered");

    const { name, header, rows } = await downloadFromOpenMenu(page, { preset: PRESET_LABELS.mailchimp });
    expect(name).toMatch(/-customers-/i);
    expect(header).toEqual(["Email Address", "First Name", "Last Name", "Phone Number", "Tags", ...TENURE_MERGE_FIELDS.map((field) => field.name)]);
    expect(rows.map((row) => row["Email Address"].toLowerCase()).sort()).toEqual(filtered.subscribedEmails);
    expect(rows.map((row) => row["Tenure segment"])).toEqual(rows.map(() => segmentName(segment.key)));
    expect(problems).toEqual([]);
  });
});
