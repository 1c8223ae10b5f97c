import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import pg from "pg";
import { describe, expect, it, beforeAll } from "vitest";
import { exportCopySql, readExportCsv, readExportRows } from "~/data/customer-export.server";
import { EXPORT_PRESETS, type ExportContext, neutraliseCell, neutraliseSql, presetCells, presetCellsSql } from "~/pages/export";
import { installShop, testPool, uniqueShop } from "../support/db";
import { metricsRow, writeMetrics } from "../support/customer-metrics-rows";

// The export's file is written by PostgreSQL (COPY, ADR 0018) from SQL built beside the JS
// definitions it must equal: neutraliseCell, tenureProfileProperties, the Mailchimp merge
// fields and each preset's cells (app/pages/export.ts). This runs both over the same varied
// rows (nulls, a customer without a Customer row, negative and large amounts, halves that
// PostgreSQL's own round() would take the other way, JPY with no decimals, KWD with three,
// horizons other than 365 days, the merchant's labels with formula characters and commas)
// and wants the same bytes: the JS side is the cursor's rows through presetCells and
// csv-stringify, as the export was written before COPY.

const shop = uniqueShop("export-parity");

interface CustomerText {
  id: number;
  email: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  tags?: string[];
  consent?: string | null;
  sms?: string | null;
}

const CUSTOMERS: CustomerText[] = [
  { id: 1, email: "ada@example.com", firstName: "Ada", lastName: "Lovelace", phone: "+15551234567", tags: ["wholesale", "Tenure: Champions", "a, b", 'say "hi"'], consent: "SUBSCRIBED", sms: "SUBSCRIBED" },
  { id: 2, email: null, firstName: null, lastName: null, phone: null, tags: [], consent: null },
  { id: 3, email: "  ", firstName: "=HYPERLINK(\"http://x\")", lastName: "+cmd|' /C calc'!A0", phone: "-2+3", tags: ["=1+1", "-5"], consent: "UNSUBSCRIBED" },
  { id: 4, email: "@evil.example.com", firstName: "\tTab", lastName: "\rReturn", phone: "@SUM(1)", consent: "SUBSCRIBED", sms: "NOT_SUBSCRIBED" },
  { id: 5, email: "wide@example.com", firstName: "\uFF1D1+1", lastName: "\uFF0D12", phone: "\uFF0B1", tags: ["\uFF20x", "wholesale", "wholesale"], consent: "PENDING" },
  { id: 6, email: "nl@example.com", firstName: "Anne \"Nan\"", lastName: "O'Neil,\nSecond line", phone: "-12.50", consent: "SUBSCRIBED" },
  { id: 7, email: "jp@example.com", firstName: "山田", lastName: "-عربي", phone: "+١٢٣", consent: "SUBSCRIBED" },
  // id 8 has metrics and no Customer row (the LEFT JOIN's nulls).
  { id: 9, email: "", firstName: "", lastName: "", phone: "", tags: [""], consent: "SUBSCRIBED" },
];

beforeAll(async () => {
  await installShop(shop);
  const pool = testPool();
  for (const c of CUSTOMERS) {
    await pool.query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", phone, tags, "shopifyUpdatedAt",
         "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt", "smsConsentState", "smsOptInLevel", "smsConsentUpdatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, $9, $10, $11, $12, $13)`,
      [
        shop,
        c.id,
        c.email,
        c.firstName ?? null,
        c.lastName ?? null,
        c.phone ?? null,
        c.tags ?? [],
        c.consent ?? null,
        c.consent === "SUBSCRIBED" ? "CONFIRMED_OPT_IN" : null,
        c.consent ? new Date("2026-03-04T05:06:07.890Z") : null,
        c.sms ?? null,
        c.sms ? "SINGLE_OPT_IN" : null,
        c.sms ? new Date("2025-12-31T23:59:59Z") : null,
      ],
    );
  }
  await writeMetrics(shop, [
    metricsRow(1, {
      orders: 7, netSpent: 186_900, predictedClv: 12_345, expectedPurchases365d: 2.5, expectedOrderValue: 4321,
      chanceOfOrder90d: 0.12345, chanceOfOrder365d: 0.99995, pAlive: 0.00005, expectedNextOrderDay: 20_200,
      segment: "champions", behaviours: ["vip", "repeat-buyer"] as never, scores: { r: 5, f: 5, m: 5 },
    }),
    metricsRow(2, { orders: 0, netSpent: 0 }),
    metricsRow(3, {
      netSpent: -250, predictedClv: 0, expectedPurchases365d: 1 / 3, expectedOrderValue: 999,
      chanceOfOrder90d: 1, chanceOfOrder365d: 0, pAlive: 0, segment: "loyal",
    }),
    metricsRow(4, {
      netSpent: 123_456_789_012, predictedClv: 98_765_432_109, expectedPurchases365d: 17.77, expectedOrderValue: 123_456,
      chanceOfOrder90d: 0.00015, chanceOfOrder365d: 0.5, pAlive: 0.99999, segment: "champions",
    }),
    // Halves: 0.5 x 5 = 2.5 minor units (Math.round: 3; PostgreSQL's round(float8): 2).
    metricsRow(5, { netSpent: 1, predictedClv: 5, expectedPurchases365d: 0.5, expectedOrderValue: 5, chanceOfOrder90d: 0.045, pAlive: 0.125, segment: "cant-lose-them" }),
    metricsRow(6, { netSpent: 5, predictedClv: 1, expectedPurchases365d: 1.5, expectedOrderValue: 1, chanceOfOrder90d: 0.00125, pAlive: 0.99995, behaviours: ["big-spender"] as never }),
    metricsRow(7, { netSpent: 999_999, predictedClv: 1, expectedPurchases365d: 0.1, expectedOrderValue: 3, chanceOfOrder90d: 0.3, chanceOfOrder365d: 0.7 }),
    metricsRow(8, { netSpent: 4200, predictedClv: 100, expectedPurchases365d: 2, expectedOrderValue: 50, chanceOfOrder90d: 0.5, segment: "champions" }),
    metricsRow(9, { netSpent: 10, chanceOfOrder90d: 0.99994999 }),
  ]);
  // Keys Tenure does not know (an older version's): shown as themselves, guarded.
  await pool.query(`UPDATE "CustomerMetrics" SET segment = '=legacy', behaviours = ARRAY['vip', '-old-key'] WHERE shop = $1 AND "customerId" = 7`, [shop]);
  // Behaviour names are written element by element up to 12 (export.ts), by a subquery past that: both ends.
  const many = (count: number) => Array.from({ length: count }, (_, index) => (index % 2 === 0 ? `key-${index}` : "vip"));
  await pool.query(`UPDATE "CustomerMetrics" SET behaviours = $2 WHERE shop = $1 AND "customerId" = 9`, [shop, many(13)]);
  await pool.query(`UPDATE "CustomerMetrics" SET behaviours = $2 WHERE shop = $1 AND "customerId" = 5`, [shop, many(12)]);
});

const CONTEXTS: { name: string; context: ExportContext }[] = [
  { name: "USD, 365 days, labels with formula characters", context: { currency: "USD", horizonDays: 365, labels: { champions: "=HYPERLINK(1)", vip: "V, I; P", loyal: "+1" }, segmentKey: "champions" } },
  { name: "JPY (no decimals), 365 days, the table's view", context: { currency: "JPY", horizonDays: 365, labels: {}, segmentKey: null } },
  { name: "KWD (3 decimals), 180 days", context: { currency: "KWD", horizonDays: 180, labels: { loyal: 'Loyal "ones"', "cant-lose-them": "-Lost" }, segmentKey: "vip" } },
  { name: "USD, 730 days", context: { currency: "USD", horizonDays: 730, labels: {}, segmentKey: "loyal" } },
];

async function jsCsv(context: ExportContext, preset: (typeof EXPORT_PRESETS)[number], subscribedOnly: boolean): Promise<string> {
  let csv = "";
  for await (const rows of readExportRows(testPool(), shop, {}, null, { subscribedOnly, batchRows: 4 })) {
    csv += stringify(rows.map((row) => presetCells(preset, row, context)));
  }
  return csv;
}

async function sqlCsv(context: ExportContext, preset: (typeof EXPORT_PRESETS)[number], subscribedOnly: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of readExportCsv(testPool(), exportCopySql(shop, {}, null, { subscribedOnly, cellsSql: presetCellsSql(preset, context) }))) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

describe("the export's SQL and its JS definition", () => {
  for (const { name, context } of CONTEXTS) {
    for (const preset of EXPORT_PRESETS) {
      it(`write the same ${preset} file: ${name}`, async () => {
        const [js, sql] = await Promise.all([jsCsv(context, preset, false), sqlCsv(context, preset, false)]);
        expect(parse(js)).toHaveLength(9); // every customer with metrics (8 has no Customer row)
        expect(sql).toBe(js);
      });
    }
  }

  it("keep the same customers by consent", async () => {
    const context = CONTEXTS[0].context;
    const [js, sql] = await Promise.all([jsCsv(context, "shopify", true), sqlCsv(context, "shopify", true)]);
    expect(parse(js)).toHaveLength(4); // 1, 4, 6, 7: subscribed with an email (9's is empty)
    expect(sql).toBe(js);
  });

  it("read the same customers for a search written into the COPY (quotes, backslashes, LIKE escapes) as for the parameterised read", async () => {
    const context = CONTEXTS[0].context;
    for (const pattern of ["o'neil%", "\\=%", "a\\\\%", "'; select 1; --%", "%"]) {
      const search = { pattern };
      let js = "";
      for await (const rows of readExportRows(testPool(), shop, {}, search, { subscribedOnly: false })) js += stringify(rows.map((row) => presetCells("tenure", row, context)));
      const chunks: Buffer[] = [];
      for await (const chunk of readExportCsv(testPool(), exportCopySql(shop, {}, search, { subscribedOnly: false, cellsSql: presetCellsSql("tenure", context) }))) chunks.push(chunk);
      expect(Buffer.concat(chunks).toString("utf8"), pattern).toBe(js);
    }
    expect(parse(await sqlCsv(context, "tenure", false))).toHaveLength(9);
  });

  it("write dates and floats the same whatever the server's DateStyle and float digits", async () => {
    // A role or server set to other defaults (DateStyle German, fewer float digits): the COPY pins its own.
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set("options", "-c DateStyle=German,DMY -c extra_float_digits=-3");
    const otherDefaults = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      const context = CONTEXTS[0].context;
      const chunks: Buffer[] = [];
      for await (const chunk of readExportCsv(otherDefaults, exportCopySql(shop, {}, null, { subscribedOnly: false, cellsSql: presetCellsSql("tenure", context) }))) chunks.push(chunk);
      expect(Buffer.concat(chunks).toString("utf8")).toBe(await jsCsv(context, "tenure", false));
    } finally {
      await otherDefaults.end();
    }
  });

  it("neutralise the same cells (neutraliseSql and neutraliseCell over tricky text)", async () => {
    const tricky = [
      "", "=", "+", "-", "@", "=1+2", "+15551234567", "-12", "-12.5", "+-1", "-1e5", "- 1", "+1.", "+.5", "-0.5", "+1.2.3", "12", "a=b",
      "'=x", " =x", "\tTab", "\rR", "\nN", "-12\n", "\n-12", "\uFF1D1", "\uFF0B1", "\uFF0D1", "\uFF20x", "-\uFF11\uFF12", "+\u0661\u0662",
      "😀=", "=😀", "-12 ", " -12", "+1\\2", "@'quoted'", "=E'x'",
    ];
    const result = await testPool().query<{ value: string; guarded: string }>(
      `SELECT t.value, ${neutraliseSql("t.value")} AS guarded FROM unnest($1::text[]) WITH ORDINALITY AS t(value, n) ORDER BY t.n`,
      [tricky],
    );
    expect(result.rows.map((row) => row.guarded)).toEqual(tricky.map(neutraliseCell));
  });
});
