import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { type Locator, type Page } from "playwright-core";
import { segmentName } from "~/display/segment-names";
import { QUEUE } from "~/queues/contract";
import { destinationsProcessor } from "~/worker/registry.server";
import { screenshot } from "./browser";
import { FAKE_AUDIENCE_ID, FAKE_MAILCHIMP_KEY } from "../../demo/fakes/mailchimp";
import { demoAppForFile } from "./harness";

// A merchant connects Klaviyo on the Integrations page against the local fake (as in
// `npm run demo`), chooses a segment, and watches the first sync run to its end; the fake's
// list then holds exactly the segment's customers who are subscribed to email marketing.
// The sync passes run in this process, on a BullMQ worker of the real destinations
// processor, on the queue prefix the server enqueues to (harness.ts).

const app = demoAppForFile({ label: "destinations", customers: 150, endAt: new Date("2026-06-30T12:00:00Z") });
const KLAVIYO_KEY = "pk_browser_test_0123456789";

let worker: Worker | undefined;
let connection: Redis | undefined;

beforeAll(async () => {
  connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  worker = new Worker(QUEUE.destinations, destinationsProcessor({ pool: app.pool }), { connection, prefix: process.env.TENURE_QUEUE_PREFIX, concurrency: 2 });
});

afterAll(async () => {
  await worker?.close();
  connection?.disconnect();
});

/** The card of one email tool. */
function card(page: Page, kind: "klaviyo" | "mailchimp"): Locator {
  return page.locator(`[data-destination="${kind}"]`);
}

/** The RFM segment with the most customers who have an email, and its customers' consent made varied (subscribed, not, never asked). */
async function segmentWithVariedConsent(): Promise<{ key: string; subscribed: string[]; others: number }> {
  const { rows } = await app.pool.query<{ segment: string }>(
    `SELECT m.segment FROM "CustomerMetrics" m JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      WHERE m.shop = $1 AND m.segment IS NOT NULL AND c.email IS NOT NULL GROUP BY m.segment ORDER BY count(*) DESC, m.segment LIMIT 1`,
    [app.shop]
  );
  const key = rows[0].segment;
  // Every third customer of the shop subscribed, every third not, the rest never asked: whatever the generator chose.
  await app.pool.query(
    `UPDATE "Customer" SET "emailConsentState" = CASE id % 3 WHEN 0 THEN 'SUBSCRIBED' WHEN 1 THEN 'NOT_SUBSCRIBED' ELSE NULL END WHERE shop = $1`,
    [app.shop]
  );
  const members = await app.pool.query<{ email: string | null; state: string | null }>(
    `SELECT c.email, c."emailConsentState" AS state FROM "CustomerMetrics" m JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      WHERE m.shop = $1 AND m.segment = $2`,
    [app.shop, key]
  );
  const subscribed = members.rows.filter((row) => row.email !== null && row.state === "SUBSCRIBED").map((row) => row.email!.toLowerCase());
  return { key, subscribed: subscribed.sort(), others: members.rows.length - subscribed.length };
}

/** The shop's sync passes, for a failure's message. */
async function runs() {
  const { rows } = await app.pool.query(
    `SELECT d.kind AS tool, r.kind, r.status, r.total, r.compared, r.sent, r."leftOut", r.error, r."startedAt", r."finishedAt"
       FROM "DestinationRun" r JOIN "Destination" d ON d.id = r."destinationId" WHERE d.shop = $1 ORDER BY r."startedAt"`,
    [app.shop]
  );
  return rows;
}

describe("Integrations: connect Klaviyo and sync a segment", () => {
  it("a key the tool refuses is explained and nothing is stored", async () => {
    const { page } = await app.open("/app/integrations");
    const klaviyo = card(page, "klaviyo");
    await klaviyo.getByLabel("Klaviyo private API key").fill("not-a-klaviyo-key");
    await klaviyo.getByRole("button", { name: "Connect Klaviyo" }).click();
    await klaviyo.getByText("Klaviyo not connected").waitFor();
    // Only Klaviyo's: the shop's Shopify write-back destination exists from the install (issue 15).
    const { rows } = await app.pool.query(`SELECT 1 FROM "Destination" WHERE shop = $1 AND kind = 'klaviyo'`, [app.shop]);
    expect(rows).toEqual([]);
    await screenshot(page, "integrations-refused-key");
  });

  it("connects with a key, syncs the chosen segment to a list of its subscribed customers, and shows the finished run", async () => {
    const segment = await segmentWithVariedConsent();
    expect(segment.subscribed.length, "the segment has subscribed customers to send").toBeGreaterThan(0);
    const name = segmentName(segment.key);

    const { page, problems } = await app.open("/app/integrations");
    await screenshot(page, "integrations-not-connected");
    const klaviyo = card(page, "klaviyo");
    await klaviyo.getByLabel("Klaviyo private API key").fill(KLAVIYO_KEY);
    await klaviyo.getByRole("button", { name: "Connect Klaviyo" }).click();
    await klaviyo.getByText("Klaviyo connected").waitFor();
    // The key went to the server once and never comes back: not in the field, not in the page.
    await klaviyo.getByRole("checkbox", { name, exact: true }).waitFor();
    await expect(klaviyo.getByLabel("Klaviyo private API key").count()).resolves.toBe(0);
    expect(await page.content()).not.toContain(KLAVIYO_KEY);
    const stored = await app.pool.query<{ sealed: string }>(`SELECT "sealedCredentials" AS sealed FROM "Destination" WHERE shop = $1 AND kind = 'klaviyo'`, [
      app.shop,
    ]);
    expect(stored.rows[0].sealed).toMatch(/^v1:/);
    expect(stored.rows[0].sealed).not.toContain(KLAVIYO_KEY);

    // Subscribed only, by default; "Everyone" carries the warning.
    await expect(klaviyo.getByLabel("Subscribed to email marketing only").isChecked()).resolves.toBe(true);
    await klaviyo.getByLabel("Everyone", { exact: true }).check({ force: true });
    await klaviyo.getByText("For analysis, not for sending").first().waitFor();
    await klaviyo.getByLabel("Subscribed to email marketing only").check({ force: true });

    await klaviyo.getByRole("checkbox", { name, exact: true }).check({ force: true });
    await klaviyo.getByRole("button", { name: "Save segments" }).click();
    // The final frame: the first sync's own "done", reached by the page's own refreshes (no reload, no timer).
    await klaviyo
      .getByText(/^First sync, started .*, finished /)
      .waitFor({ timeout: 90_000 })
      .catch(async (error: unknown) => {
        await screenshot(page, "integrations-waiting");
        throw new Error(`the first sync did not show as finished: ${String(error)}\nruns: ${JSON.stringify(await runs())}`);
      });
    await expect(klaviyo.locator('[data-run-kind="initial"]').getAttribute("data-run-status")).resolves.toBe("done");
    await screenshot(page, "integrations");

    const run = await app.pool.query<{ sent: number; failed: number; leftOut: number }>(
      `SELECT r.sent, r.failed, r."leftOut" FROM "DestinationRun" r JOIN "Destination" d ON d.id = r."destinationId"
        WHERE d.shop = $1 AND r.kind = 'initial' AND r.status = 'done' ORDER BY r."startedAt" DESC LIMIT 1`,
      [app.shop]
    );
    expect(run.rows[0]).toEqual({ sent: segment.subscribed.length, failed: 0, leftOut: segment.others });
    const figure = (label: string) => klaviyo.locator("[data-figure-label]", { hasText: label }).locator("xpath=../following-sibling::p[1]").innerText();
    await expect(figure("Sent")).resolves.toBe(segment.subscribed.length.toLocaleString("en-US"));
    await expect(figure("Left out")).resolves.toBe(segment.others.toLocaleString("en-US"));

    // The connected card's figures and headings carry their glossary help (glossary.test.ts reads the page unconnected).
    const unmarked = await page.evaluate(() =>
      [...document.querySelectorAll("[data-destination] h2, [data-destination] h3, [data-destination] [data-figure-label]")]
        .filter((element) => !element.closest(".Polaris-Banner") && !element.querySelector("[data-term]"))
        .map((element) => element.textContent)
    );
    expect(unmarked).toEqual([]);

    const listName = `Tenure: ${name}`;
    const members = app.fakes.klaviyo.state.listMembers(listName, KLAVIYO_KEY).map((email) => email.toLowerCase());
    expect(members).toEqual(segment.subscribed);

    // The segment's own page says where it goes.
    const segmentPage = await app.open(`/app/segments/${segment.key}`);
    await segmentPage.page.locator("[data-term='synced-to']").waitFor();
    await segmentPage.page.getByText(`Klaviyo: list ${listName}, last sent just now`).waitFor();
    await screenshot(segmentPage.page, "segment-synced-to");
    expect(segmentPage.problems).toEqual([]);
    expect(problems).toEqual([]);
  }, 150_000);
});

describe("Integrations: connect Mailchimp, choose the audience and sync a segment", () => {
  it("lists the account's audiences after connecting, and tags the segment's subscribed customers in the chosen one", async () => {
    const segment = await segmentWithVariedConsent();
    const name = segmentName(segment.key);
    const { page, problems } = await app.open("/app/integrations");
    const mailchimp = card(page, "mailchimp");
    await mailchimp.getByLabel("Mailchimp API key").fill(FAKE_MAILCHIMP_KEY);
    await mailchimp.getByRole("button", { name: "Connect Mailchimp" }).click();
    await mailchimp.getByText("Mailchimp connected").waitFor();
    // The audiences come from Mailchimp; the segments wait for the choice.
    await mailchimp.getByLabel("Audience Tenure's tags go to").waitFor();
    await expect(mailchimp.getByRole("checkbox", { name, exact: true }).count()).resolves.toBe(0);
    await mailchimp.getByRole("button", { name: "Use this audience" }).click();
    await mailchimp.getByRole("checkbox", { name, exact: true }).check({ force: true });
    await mailchimp.getByText("Newsletter").first().waitFor();
    await mailchimp.getByRole("button", { name: "Save segments" }).click();
    // Done when the page, refreshing itself, shows a finished first sync that sent the segment's subscribed customers.
    const sent = mailchimp.locator("[data-figure-label]", { hasText: "Sent" }).locator("xpath=../following-sibling::p[1]");
    const expected = segment.subscribed.length.toLocaleString("en-US");
    await page
      .waitForFunction(
        ({ expected }) => {
          const root = document.querySelector('[data-destination="mailchimp"]');
          const status = root?.querySelector('[data-run-kind="initial"]')?.getAttribute("data-run-status");
          const label = [...(root?.querySelectorAll("[data-figure-label]") ?? [])].find((element) => element.textContent?.startsWith("Sent"));
          return status === "done" && label?.parentElement?.nextElementSibling?.textContent === expected && root?.textContent?.includes("First sync, started");
        },
        { expected },
        { timeout: 90_000, polling: 250 }
      )
      .catch(async (error: unknown) => {
        await screenshot(page, "integrations-mailchimp-waiting");
        throw new Error(`the first sync did not show as finished: ${String(error)}\nruns: ${JSON.stringify(await runs())}`);
      });
    await expect(sent.innerText()).resolves.toBe(expected);
    await screenshot(page, "integrations-mailchimp");

    const tagged = app.fakes.mailchimp.state.membersTagged(FAKE_AUDIENCE_ID, `Tenure: ${name}`).map((email) => email.toLowerCase());
    expect(tagged).toEqual(segment.subscribed);
    // Added as subscribed because Shopify says so; nobody else is in the audience as subscribed.
    for (const email of tagged) expect(app.fakes.mailchimp.state.member(FAKE_AUDIENCE_ID, email)?.status, email).toBe("subscribed");
    expect(problems).toEqual([]);
  }, 150_000);
});

describe("Integrations: a paused sync and a sync in progress", () => {
  it("shows a revoked key's pause with its reason and reconnects with a new key; a running full sync shows its progress", async () => {
    // As the engine leaves them: Klaviyo paused by a refused key, a full sync of Mailchimp under way.
    const notice = "Klaviyo refused Tenure's key (401): it was revoked or deleted.";
    await app.pool.query(`UPDATE "Destination" SET status = 'paused', notice = $2 WHERE shop = $1 AND kind = 'klaviyo'`, [app.shop, notice]);
    const { rows } = await app.pool.query<{ id: string }>(
      `INSERT INTO "DestinationRun" ("destinationId", kind, status, total, compared, sent)
       SELECT id, 'full', 'running', 1200, 480, 95 FROM "Destination" WHERE shop = $1 AND kind = 'mailchimp' RETURNING id::text AS id`,
      [app.shop],
    );
    try {
      const { page, problems } = await app.open("/app/integrations");
      const klaviyo = card(page, "klaviyo");
      await klaviyo.getByText("Sync to Klaviyo is paused").waitFor();
      await klaviyo.getByText(notice).waitFor();
      const mailchimp = card(page, "mailchimp");
      await mailchimp.getByText("480 of 1,200 customers compared").waitFor();
      await expect(mailchimp.locator("progress, [role=progressbar]").count()).resolves.toBeGreaterThan(0);
      await screenshot(page, "integrations-paused-and-running");

      await klaviyo.getByLabel("Klaviyo private API key").fill(KLAVIYO_KEY);
      await klaviyo.getByRole("button", { name: "Reconnect Klaviyo" }).click();
      await klaviyo.getByText("Klaviyo connected").waitFor();
      const status = await app.pool.query(`SELECT status, notice FROM "Destination" WHERE shop = $1 AND kind = 'klaviyo'`, [app.shop]);
      expect(status.rows[0]).toEqual({ status: "active", notice: null });
      expect(problems).toEqual([]);
    } finally {
      await app.pool.query(`DELETE FROM "DestinationRun" WHERE id = $1`, [rows[0].id]);
    }
  }, 150_000);
});
