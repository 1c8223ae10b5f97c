import { parse } from "csv-parse/sync";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dayIndexInZone, dayToIso } from "~/analytics/dates";
import { installShop, testPool, uniqueShop } from "../support/db";
import { waitFor } from "../support/wait-for";
import { metricsRow, writeMetrics } from "../support/customer-metrics-rows";

// Segment and customer-table exports (issue 14, docs/exports.md), through the routes'
// loaders in demo mode (the demo shop is `shop`; `other` is another tenant with the same
// customer ids): headers, each preset's fixed header row, the consent filter and its
// counts, formula injection, a round trip through csv-parse, tenant isolation, bad input,
// and the COPY's client going back to the pool (the COPY ended) when the download is abandoned.

type Loader = (args: { request: Request; params: Record<string, string>; context: object }) => Promise<unknown>;

const shop = uniqueShop("export");
const other = uniqueShop("export-other");
const BASE = "https://tenure.test";

interface SeedCustomer {
  id: number;
  email: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  tags?: string[];
  consent?: string | null;
  segment?: string;
  behaviours?: string[];
  netSpent?: number;
  predictedClv?: number | null;
  chance90?: number | null;
}

async function seed(target: string, customers: SeedCustomer[]) {
  const pool = testPool();
  for (const c of customers) {
    await pool.query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", phone, tags, "shopifyUpdatedAt",
         "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt", "smsConsentState")
       VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, $9, $10, $11)`,
      [
        target,
        c.id,
        c.email,
        c.firstName ?? null,
        c.lastName ?? null,
        c.phone ?? null,
        c.tags ?? [],
        c.consent ?? null,
        c.consent === "SUBSCRIBED" ? "SINGLE_OPT_IN" : null,
        c.consent ? new Date("2026-03-04T05:06:07Z") : null,
        c.consent === "SUBSCRIBED" ? "NOT_SUBSCRIBED" : null,
      ],
    );
  }
  await writeMetrics(
    target,
    customers.map((c) =>
      metricsRow(c.id, {
        segment: c.segment ?? "champions",
        behaviours: (c.behaviours ?? []) as never,
        netSpent: c.netSpent ?? 1000,
        predictedClv: c.predictedClv === undefined ? 2500 : c.predictedClv,
        chanceOfOrder90d: c.chance90 === undefined ? 0.5 : c.chance90,
        pAlive: 0.75,
        chanceOfOrder365d: 0.8,
        expectedNextOrderDay: 20_150,
        scores: { r: 5, f: 4, m: 3 },
      }),
    ),
  );
}

const MINE: SeedCustomer[] = [
  { id: 1, email: "ada@example.com", firstName: "Ada", lastName: "Lovelace", phone: "+15551234567", consent: "SUBSCRIBED", tags: ["wholesale"], behaviours: ["vip"] },
  { id: 2, email: "bob@example.com", firstName: "Bob", lastName: "Smith, Jr.", consent: "NOT_SUBSCRIBED" },
  { id: 3, email: null, firstName: "Nomail", consent: "SUBSCRIBED" },
  { id: 4, email: "  ", firstName: "Blank", consent: "SUBSCRIBED" },
  { id: 5, email: "unsub@example.com", consent: "UNSUBSCRIBED" },
  { id: 6, email: "never@example.com", consent: null },
  // Text a spreadsheet would run, and text that must come back exactly.
  { id: 7, email: "@evil.example.com", firstName: "=HYPERLINK(\"http://x\",\"y\")", lastName: "+cmd|' /C calc'!A0", phone: "-2+3", consent: "SUBSCRIBED" },
  { id: 8, email: "tab@example.com", firstName: "\tTab", lastName: "\rReturn", phone: "@SUM(1)", consent: "SUBSCRIBED" },
  { id: 9, email: "quote@example.com", firstName: 'Anne "Nan"', lastName: "O'Neil,\nSecond line", consent: "SUBSCRIBED" },
  { id: 10, email: "jp@example.com", firstName: "山田", lastName: "太郎", consent: "SUBSCRIBED" },
  { id: 11, email: "ru@example.com", firstName: "Анна", lastName: "Каренина", consent: "SUBSCRIBED" },
  { id: 12, email: "ar@example.com", firstName: "ليلى", lastName: "-عربي", consent: "SUBSCRIBED" },
  // A behavioural segment, negative spending (refunds), no prediction: other segment.
  { id: 13, email: "loyal@example.com", firstName: "Lo", segment: "loyal", behaviours: ["repeat-buyer"], netSpent: -250, predictedClv: null, chance90: null, consent: "SUBSCRIBED" },
];

let routes: { segment: { loader: Loader }; segmentCounts: { loader: Loader }; customers: { loader: Loader }; customerCounts: { loader: Loader } };
let appPool: () => pg.Pool;
let closePool: () => Promise<void>;
const saved = { mode: process.env.TENURE_DEMO_MODE, shop: process.env.TENURE_DEMO_SHOP };

beforeAll(async () => {
  await installShop(shop, { timezone: "Pacific/Kiritimati", currency: "USD" });
  await installShop(other, { currency: "EUR" });
  await seed(shop, MINE);
  // The other tenant: the same customer ids, other people, and a segment the demo shop lacks.
  await seed(other, [
    { id: 1, email: "theirs@example.com", firstName: "Theirs", consent: "SUBSCRIBED" },
    { id: 2, email: "theirs2@example.com", firstName: "Theirs", consent: "SUBSCRIBED", segment: "cant-lose-them" },
  ]);
  vi.resetModules();
  process.env.TENURE_DEMO_MODE = "true";
  process.env.TENURE_DEMO_SHOP = shop;
  routes = {
    segment: await import("~/routes/app.segments.$key.export[.]csv"),
    segmentCounts: await import("~/routes/app.segments.$key.export-counts"),
    customers: await import("~/routes/app.customers.export[.]csv"),
    customerCounts: await import("~/routes/app.customers.export-counts"),
  } as unknown as typeof routes;
  ({ pgPool: appPool, closePgPool: closePool } = await import("~/db/pg.server"));
});

afterAll(async () => {
  await closePool?.();
  process.env.TENURE_DEMO_MODE = saved.mode;
  if (saved.shop === undefined) delete process.env.TENURE_DEMO_SHOP;
  else process.env.TENURE_DEMO_SHOP = saved.shop;
  vi.resetModules();
});

async function get(loader: Loader, path: string, params: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  try {
    const result = await loader({ request: new Request(`${BASE}${path}`, init), params, context: {} });
    if (!(result instanceof Response)) throw new Error(`expected a Response, got ${JSON.stringify(result)}`);
    return result;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

const segmentCsv = (key: string, query: string) => get(routes.segment.loader, `/app/segments/${key}/export.csv?${query}`, { key });
const rowsOf = async (response: Response): Promise<string[][]> => parse(await response.text(), { bom: true, relax_column_count: false }) as string[][];
const column = (rows: string[][], name: string) => rows.slice(1).map((row) => row[rows[0].indexOf(name)]);

describe("a segment's export", () => {
  it("answers 200 with CSV, as an attachment named for the shop, the segment and the shop's date", async () => {
    const response = await segmentCsv("champions", "preset=klaviyo");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    const today = dayToIso(dayIndexInZone(new Date(), "Pacific/Kiritimati"));
    const name = `${shop.replace(".myshopify.com", "")}-Champions-${today}.csv`;
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${name}"`);
    await response.body?.cancel();
  });

  it("has each preset's fixed header row", async () => {
    const headers = async (preset: string) => (await rowsOf(await segmentCsv("champions", `preset=${preset}`)))[0];
    expect(await headers("klaviyo")).toEqual([
      "Email",
      "Phone Number",
      "First Name",
      "Last Name",
      "tenure_rfm_segment",
      "tenure_behaviours",
      "tenure_predicted_value_12m",
      "tenure_historic_value",
      "tenure_chance_of_ordering_90d",
      "tenure_p_alive",
      "tenure_next_order_date",
    ]);
    expect(await headers("mailchimp")).toEqual([
      "Email Address",
      "First Name",
      "Last Name",
      "Phone Number",
      "Tags",
      // The Mailchimp sync's merge fields as Mailchimp shows them, so the import maps each column onto its field.
      "Tenure segment",
      "Tenure predicted value (12 months)",
      "Tenure chance of ordering in 90 days (%)",
      "Tenure expected next order",
    ]);
    expect(await headers("shopify")).toEqual([
      "First Name",
      "Last Name",
      "Email",
      "Accepts Email Marketing",
      "Default Address Company",
      "Default Address Address1",
      "Default Address Address2",
      "Default Address City",
      "Default Address Province Code",
      "Default Address Country Code",
      "Default Address Zip",
      "Default Address Phone",
      "Phone",
      "Accepts SMS Marketing",
      "Tags",
      "Note",
      "Tax Exempt",
    ]);
    expect(await headers("tenure")).toEqual([
      "Customer ID",
      "Email",
      "First name",
      "Last name",
      "Phone",
      "Recency (R) (score 1-5)",
      "Frequency (F) (score 1-5)",
      "Monetary (M) (score 1-5)",
      "RFM segment",
      "Behavioural segments",
      "Spent to date (revenue, USD)",
      "Expected spend, next 12 months (revenue, USD)",
      "Lifetime value (revenue, USD)",
      "Chance of ordering, next 90 days (0-1)",
      "Chance of ordering, next 12 months (0-1)",
      "P(alive) (0-1)",
      "Expected next order (date)",
      "Orders",
      "First order (date)",
      "Last order (date)",
      "Email marketing consent",
      "Email opt-in level",
      "Email consent updated at (UTC)",
      "SMS marketing consent",
      "SMS opt-in level",
      "SMS consent updated at (UTC)",
    ]);
  });

  it("holds only customers subscribed to email marketing with an email by default, everyone with consent=all", async () => {
    const subscribed = column(await rowsOf(await segmentCsv("champions", "preset=tenure")), "Customer ID");
    expect(subscribed).toEqual(["1", "7", "8", "9", "10", "11", "12"]);
    const everyone = column(await rowsOf(await segmentCsv("champions", "preset=tenure&consent=all")), "Customer ID");
    expect(everyone).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]);
    const all = await segmentCsv("champions", "preset=klaviyo&consent=all");
    expect(all.headers.get("Content-Disposition")).toContain("-Champions-all-customers-");
    await all.body?.cancel();
  });

  it("counts who an export leaves out and why, for the menu", async () => {
    const counts = await routes.segmentCounts.loader({ request: new Request(`${BASE}/app/segments/champions/export-counts`), params: { key: "champions" }, context: {} });
    // 12 champions: 7 subscribed with an email; 3 and 4 have none; 2, 5 and 6 are not subscribed.
    expect(counts).toEqual({ counts: { customers: 12, subscribed: 7, noEmail: 2, notSubscribed: 3 }, problem: null });
  });

  it("writes Tenure's figures in the sync's units: major units, fractions 0..1, shop dates", async () => {
    const rows = await rowsOf(await segmentCsv("champions", "preset=klaviyo"));
    const ada = rows.find((row) => row[0] === "ada@example.com")!;
    expect(ada).toEqual(["ada@example.com", "+15551234567", "Ada", "Lovelace", "Champions", "VIP", "25", "10", "0.5", "0.75", dayToIso(20_150)]);
    // Mailchimp's columns in the Mailchimp sync's units: the chance of ordering in % (0-100).
    const mailchimp = await rowsOf(await segmentCsv("champions", "preset=mailchimp"));
    const adaInMailchimp = mailchimp.find((row) => row[0] === "ada@example.com")!;
    expect(adaInMailchimp.slice(5)).toEqual(["Champions", "25", "50", dayToIso(20_150)]);
    const tenure = await rowsOf(await segmentCsv("loyal", "preset=tenure"));
    const lo = Object.fromEntries(tenure[0].map((name, index) => [name, tenure[1][index]]));
    expect(lo).toMatchObject({
      "Customer ID": "13",
      "RFM segment": "Loyal",
      "Recency (R) (score 1-5)": "5",
      "Spent to date (revenue, USD)": "-2.50",
      "Expected spend, next 12 months (revenue, USD)": "",
      "Lifetime value (revenue, USD)": "",
      "Chance of ordering, next 90 days (0-1)": "",
      "Email marketing consent": "SUBSCRIBED",
      "Email opt-in level": "SINGLE_OPT_IN",
      "Email consent updated at (UTC)": "2026-03-04T05:06:07Z",
    });
  });

  it("tags the segment for Mailchimp and keeps the customer's own tags for Shopify", async () => {
    const mailchimp = await rowsOf(await segmentCsv("champions", "preset=mailchimp"));
    expect(new Set(column(mailchimp, "Tags"))).toEqual(new Set(["Tenure: Champions"]));
    const shopify = await rowsOf(await segmentCsv("champions", "preset=shopify&consent=all"));
    const byEmail = new Map(shopify.slice(1).map((row) => [row[2], row]));
    expect(byEmail.get("ada@example.com")![shopify[0].indexOf("Tags")]).toBe("wholesale, Tenure: Champions");
    expect(byEmail.get("ada@example.com")![shopify[0].indexOf("Accepts Email Marketing")]).toBe("yes");
    expect(byEmail.get("bob@example.com")![shopify[0].indexOf("Accepts Email Marketing")]).toBe("no");
  });

  it("neutralises cells a spreadsheet would run, and leaves plain numbers and phone numbers alone", async () => {
    const rows = await rowsOf(await segmentCsv("champions", "preset=klaviyo"));
    const byId = (email: string) => rows.find((row) => row[0] === email || row[0] === `'${email}`)!;
    expect(byId("@evil.example.com").slice(0, 4)).toEqual(["'@evil.example.com", "'-2+3", "'=HYPERLINK(\"http://x\",\"y\")", "'+cmd|' /C calc'!A0"]);
    expect(byId("tab@example.com").slice(1, 4)).toEqual(["'@SUM(1)", "'\tTab", "'\rReturn"]);
    expect(byId("ada@example.com")[1]).toBe("+15551234567");
    const ar = byId("ar@example.com");
    expect(ar[3]).toBe("'-عربي");
    // Our own negative amount is a number, not text.
    const tenure = await rowsOf(await segmentCsv("loyal", "preset=tenure"));
    expect(tenure[1][tenure[0].indexOf("Spent to date (revenue, USD)")]).toBe("-2.50");
  });

  it("round-trips commas, quotes, newlines and non-Latin scripts (read back with csv-parse)", async () => {
    const rows = await rowsOf(await segmentCsv("champions", "preset=tenure"));
    const names = new Map(rows.slice(1).map((row) => [row[0], [row[2], row[3]]]));
    expect(names.get("9")).toEqual(['Anne "Nan"', "O'Neil,\nSecond line"]);
    expect(names.get("10")).toEqual(["山田", "太郎"]);
    expect(names.get("11")).toEqual(["Анна", "Каренина"]);
    const all = await rowsOf(await segmentCsv("champions", "preset=tenure&consent=all"));
    expect(all.slice(1).find((row) => row[0] === "2")!.slice(2, 4)).toEqual(["Bob", "Smith, Jr."]);
    for (const row of all) expect(row).toHaveLength(all[0].length);
  });

  it("exports a behavioural segment by its key", async () => {
    const rows = await rowsOf(await segmentCsv("vip", "preset=tenure"));
    expect(column(rows, "Customer ID")).toEqual(["1"]);
    expect(column(rows, "Behavioural segments")).toEqual(["VIP"]);
  });

  it("exports only the shop's own customers: another shop's segment is 404, and the same ids of another shop never appear", async () => {
    const theirs = await segmentCsv("cant-lose-them", "preset=klaviyo");
    expect(theirs.status).toBe(404);
    expect(await theirs.text()).toMatch(/no customers in the segment/);
    const mine = await (await segmentCsv("champions", "preset=tenure&consent=all")).text();
    expect(mine).not.toContain("Theirs");
    expect(mine).not.toContain("theirs@example.com");
  });

  it("answers bad input with a clear error: unknown segment 404, missing or unknown preset 400, unknown consent 400", async () => {
    const unknown = await segmentCsv("nobody", "preset=klaviyo");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('There is no segment called "nobody".');
    const missing = await segmentCsv("champions", "");
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/Choose a format with \?preset=/);
    const wrong = await segmentCsv("champions", "preset=excel");
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toBe('Unknown format "excel": use one of klaviyo, mailchimp, shopify, tenure.');
    const consent = await segmentCsv("champions", "preset=klaviyo&consent=maybe");
    expect(consent.status).toBe(400);
    expect(await consent.text()).toMatch(/Unknown consent choice "maybe"/);
  });
});

describe("the customer table's export", () => {
  const customersCsv = (query: string) => get(routes.customers.loader, `/app/customers/export.csv?${query}`);

  it("exports the table's current filters, with the same SQL as the table", async () => {
    const rows = await rowsOf(await customersCsv("preset=tenure&consent=all&segment=champions&q=an"));
    expect(column(rows, "Customer ID")).toEqual(["9"]);
    const everyone = await rowsOf(await customersCsv("preset=tenure&consent=all"));
    expect(column(everyone, "Customer ID")).toHaveLength(MINE.length);
    const behaviour = await rowsOf(await customersCsv("preset=tenure&behaviour=repeat-buyer"));
    expect(column(behaviour, "Customer ID")).toEqual(["13"]);
  });

  it("writes a search's quotes and backslashes into the COPY as text, never as SQL", async () => {
    const quoted = await rowsOf(await customersCsv(`preset=tenure&consent=all&q=${encodeURIComponent("o'neil")}`));
    expect(column(quoted, "Customer ID")).toEqual(["9"]);
    for (const q of ["\\'; SELECT 1; --", "a\\", "$1", "'"]) {
      const response = await customersCsv(`preset=tenure&consent=all&q=${encodeURIComponent(q)}`);
      expect(response.status, q).toBe(200);
      expect(await rowsOf(response), q).toHaveLength(1); // the header row: nobody matches
    }
  });

  it("names the file for the customers, and counts who it leaves out", async () => {
    const response = await customersCsv("preset=mailchimp");
    expect(response.headers.get("Content-Disposition")).toMatch(/-customers-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = await rowsOf(response);
    // No segment export: no tag.
    expect(new Set(column(rows, "Tags"))).toEqual(new Set([""]));
    const counts = await routes.customerCounts.loader({ request: new Request(`${BASE}/app/customers/export-counts?segment=champions`), params: {}, context: {} });
    expect(counts).toEqual({ counts: { customers: 12, subscribed: 7, noEmail: 2, notSubscribed: 3 }, problem: null });
  });

  it("refuses a filter it cannot read rather than export more than the view (400)", async () => {
    const response = await customersCsv("preset=klaviyo&chanceMin=120");
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/^The export was not made: Chance of ordering from must be a percentage from 0 to 100/);
    const segment = await customersCsv("preset=klaviyo&segment=nobody");
    expect(segment.status).toBe(400);
  });
});

describe("the stream", () => {
  const big = uniqueShop("export-big");
  const CUSTOMERS = 5_000;

  beforeAll(async () => {
    await installShop(big);
    await testPool().query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "shopifyUpdatedAt", "emailConsentState")
       SELECT $1, g, 'c' || g || '@example.com', 'Customer ' || g, now(), 'SUBSCRIBED' FROM generate_series(1, $2::int) AS g`,
      [big, CUSTOMERS],
    );
    await writeMetrics(big, Array.from({ length: CUSTOMERS }, (_, index) => metricsRow(index + 1, { segment: "champions" })));
  });

  /** The app pool's clients all idle again, and no export COPY still running or transaction left open on the server. */
  async function expectReleased() {
    const pool = appPool();
    // Released (a COPY stopped early: its connection destroyed) once the stream has seen the stop (slow on a busy machine).
    await waitFor(async () => pool.idleCount === pool.totalCount, 20_000, "the export's client back in the pool");
    // A destroyed connection's backend leaves its transaction when it sees the socket close,
    // a moment later on a busy machine (the clean-clone CI run caught it still open).
    await waitFor(
      async () => {
        const open = await testPool().query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`);
        return open.rows[0].n === 0;
      },
      20_000,
      "no transaction left open on the server",
    );
    // The destroyed connection's backend ends its COPY when it next writes to the socket.
    await waitFor(
      async () => {
        const running = await testPool().query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%tenure_export%' AND state <> 'idle'`,
        );
        return running.rows[0].n === 0;
      },
      20_000,
      "the export's COPY ended on the server",
    );
  }

  async function exportOf(init: RequestInit = {}) {
    const { exportResponse, segmentExportView } = await import("~/pages/export.server");
    const pool = appPool();
    const request = new Request(`${BASE}/app/segments/champions/export.csv?preset=klaviyo`, init);
    return exportResponse(pool, big, await segmentExportView(pool, big, "champions"), request);
  }

  it("sends every row, in chunks", async () => {
    const rows = await rowsOf(await exportOf());
    expect(rows).toHaveLength(CUSTOMERS + 1);
    await expectReleased();
  });

  it("gives the COPY's client back when the reader cancels mid-file", async () => {
    const response = await exportOf();
    const reader = response.body!.getReader();
    await reader.read(); // the header
    const first = await reader.read(); // the first rows: the COPY is running
    expect(first.done).toBe(false);
    expect(appPool().totalCount - appPool().idleCount).toBeGreaterThan(0);
    await reader.cancel();
    await expectReleased();
  });

  it("stops reading and gives the client back when the browser goes away (the request aborts)", async () => {
    const controller = new AbortController();
    const response = await exportOf({ signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    // The Remix adapter keeps reading after an abort: the stream ends early instead of reading the shop.
    let chunks = 0;
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks += 1;
    expect(chunks).toBeLessThan(2);
    await expectReleased();
  });
});
