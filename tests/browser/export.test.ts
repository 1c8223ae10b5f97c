import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { segmentName } from "~/display/segment-names";
import { exportFileName, PRESET_LABELS } from "~/pages/export";
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
  await page.getByLabel(choose.preset, { exact: true }).check({ force: true });
  if (choose.everyone) await page.getByLabel("Everyone, for analysis (not for sending)").check({ force: true });
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV", exact: true }).click()]);
  const text = readFileSync((await file.path())!, "utf8");
  return { page, problems, name: file.suggestedFilename(), rows: parse(text, { columns: true, bom: true }) as Record<string, string>[] };
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
