// Page loaders on a shop with 1,000,000 customers (BENCH_PAGES_CUSTOMERS): p50/p95 of each
// merchant page's Remix loader, called in-process from the production server build
// (build/server/index.js, built when stale) with a Request, in demo mode, as Remix calls it
// on a document or data request, the JSON encoding of its result included.
//
// The shop: a fresh database (migrated), a demo store of BENCH_PAGES_TEMPLATE customers
// seeded through the real write path and refit (scripts/seed-demo-shop.ts), then copied
// set-based (generate_series) into the big shop until it holds 1M customers: Customer,
// CustomerMetrics, Order and Refund rows (ids shifted per copy, so every customer's orders
// and metrics agree; money and probabilities nudged per copy so copies do not all tie),
// the shop's fit, settings and aggregates (their JSON as the template's), 90 days of segment daily
// counts, segment transitions for the last 90 days, a million webhook deliveries and a
// finished backfill. Then VACUUM ANALYZE, as autovacuum would have done on a live shop.
//
// Target (issue 5): p95 <= 200 ms per page. Options: --iterations <n> (default 60),
// --keep (keep the database for another look), --reuse (measure a kept database again, after
// applying any migration added since), --only <text> (only the pages whose name has it).

import { benchDatabase } from "./lib/database";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { applyMigrations } from "../app/db/migrations.server";
import { createPrismaClient } from "../app/db.server";
import { createPgPool } from "../app/db/pg.server";
import { type SortKey, encodeCursor } from "../app/pages/customer-list";
import { buildIndexes, createRebuildTable, rebuildTableName, shopPartition, swapInPartition } from "../app/refit/partition-swap.server";
import { ensureAppBuild, SERVER_BUILD } from "../scripts/app-build";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { seedDemoShop } from "../scripts/seed-demo-shop";
import { type BenchResult, percentile, round } from "./lib/report";

const CUSTOMERS = Number(process.env.BENCH_PAGES_CUSTOMERS ?? 1_000_000);
const TEMPLATE_CUSTOMERS = Number(process.env.BENCH_PAGES_TEMPLATE ?? 3_600);
const DELIVERIES = Number(process.env.BENCH_PAGES_DELIVERIES ?? 1_000_000);
const TARGET_P95_MS = 200;
const DATABASE = "tenure_bench_pages";
const TEMPLATE_SHOP = "bench-pages-template.myshopify.com";
const SHOP = "bench-pages-1m.myshopify.com";
/** Id shift per copy: larger than the span of the template's customer, order and refund ids. */
const STRIDE = 100_000_000n;
const END_AT = new Date("2026-11-20T17:00:00Z");
const log = (line: string) => console.error(`bench pages: ${line}`);

/** A --keep run's database holds the whole big shop: measure it again instead of rebuilding. */
async function holdsBigShop(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  return client
    .connect()
    .then(() => client.query<{ n: string }>(`SELECT count(*) AS n FROM "Customer" WHERE shop = $1`, [SHOP]))
    .then((result) => Number(result.rows[0].n) === CUSTOMERS, () => false)
    .finally(() => client.end().catch(() => {}));
}

/** The table's columns, quoted, in order. */
async function columnsOf(client: pg.PoolClient, table: string): Promise<string[]> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((row) => row.column_name);
}

/**
 * INSERT INTO table SELECT ... FROM table t <from> WHERE t.shop = template: every column
 * copied, except `shop` (the big shop), the `shifted` id columns (+ copy * STRIDE), and
 * `omitted` ones (serial ids). `from` must provide the copy number as `copy`.
 */
async function copyRows(
  client: pg.PoolClient,
  table: string,
  options: { shifted: string[]; omitted?: string[]; from: string; expressions?: Record<string, string> },
): Promise<number> {
  const columns = (await columnsOf(client, table)).filter((c) => !(options.omitted ?? []).includes(c));
  const select = columns.map((column) => {
    if (column === "shop") return "$2::text";
    if (options.shifted.includes(column)) return `t."${column}" + copy::bigint * ${STRIDE}`;
    return options.expressions?.[column] ?? `t."${column}"`;
  });
  const result = await client.query(
    `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(", ")})
     SELECT ${select.join(", ")} FROM "${table}" t ${options.from} WHERE t.shop = $1`,
    [TEMPLATE_SHOP, SHOP],
  );
  return result.rowCount ?? 0;
}

/**
 * The copied aggregates' customer counts (segments, acquisition drivers) scaled to the big shop:
 * the customer table reads them as the count of a view too large to count live.
 */
async function scaleAggregateCounts(client: pg.PoolClient | pg.Pool, scale: number): Promise<void> {
  const scaled = (row: string) => `jsonb_set(${row}, '{customers}', to_jsonb(round((${row}->>'customers')::numeric * $2)::int))`;
  const rows = (array: string) => `COALESCE((SELECT jsonb_agg(${scaled("r")}) FROM jsonb_array_elements(${array}) AS r), '[]'::jsonb)`;
  await client.query(
    `UPDATE "ShopAggregate" SET data = jsonb_set(data, '{rows}', ${rows(`data->'rows'`)}) WHERE shop = $1 AND kind = 'segments' AND jsonb_typeof(data->'rows') = 'array'`,
    [SHOP, scale],
  );
  await client.query(
    `UPDATE "ShopAggregate" SET data = jsonb_set(data, '{tables}', COALESCE((
       SELECT jsonb_agg(jsonb_set(t, '{rows}', ${rows(`t->'rows'`)})) FROM jsonb_array_elements(data->'tables') AS t), '[]'::jsonb))
     WHERE shop = $1 AND kind = 'drivers' AND jsonb_typeof(data->'tables') = 'array'`,
    [SHOP, scale],
  );
}

async function buildBigShop(pool: pg.Pool): Promise<Record<string, number>> {
  const client = await pool.connect();
  const counts: Record<string, number> = {};
  try {
    await client.query("SET synchronous_commit = off");
    const span = await client.query<{ customers: string; orders: string; refunds: string }>(
      `SELECT (SELECT max(id) - min(id) FROM "Customer" WHERE shop = $1) AS customers,
              (SELECT max(id) - min(id) FROM "Order" WHERE shop = $1) AS orders,
              (SELECT coalesce(max(id) - min(id), 0) FROM "Refund" WHERE shop = $1) AS refunds`,
      [TEMPLATE_SHOP],
    );
    for (const [name, value] of Object.entries(span.rows[0])) {
      if (BigInt(value) >= STRIDE) throw new Error(`template ${name} ids span ${value}, more than the copy stride ${STRIDE}`);
    }
    // Which template customer becomes which big-shop customer: copy k of template row n is
    // big-shop customer k * templateSize + n, up to CUSTOMERS.
    await client.query(
      `CREATE TEMP TABLE copies AS
       WITH t AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS size FROM "Customer" WHERE shop = $1)
       SELECT t.id AS template_id, k AS copy FROM t, generate_series(0, ceil($2::float8 / t.size)::int - 1) AS k
       WHERE k * t.size + t.n < $2`,
      [TEMPLATE_SHOP, CUSTOMERS],
    );
    await client.query(`CREATE INDEX ON copies (template_id)`);
    counts.Customer = await copyRows(client, "Customer", { shifted: ["id"], from: `JOIN copies m ON m.template_id = t.id` });
    // Copies of one customer would tie on every figure, each value shared by ~280 customers,
    // far more ties than a real shop has: money and probabilities move by a few cents or
    // parts per million per copy. Exact values stay (orders, days, and P(alive) of 0 or 1,
    // which the model gives many real customers alike).
    const jitter = (salt: number, modulo: number) => `(abs(hashint8(t."customerId" + copy::bigint * ${STRIDE} + ${salt})) % ${modulo})`;
    counts.CustomerMetrics = await copyRows(client, "CustomerMetrics", {
      shifted: ["customerId"],
      from: `JOIN copies m ON m.template_id = t."customerId"`,
      expressions: {
        netSpentMinor: `CASE WHEN copy = 0 OR t."netSpentMinor" = 0 THEN t."netSpentMinor" ELSE t."netSpentMinor" + ${jitter(1, 100)} END`,
        predictedClvMinor: `CASE WHEN copy = 0 OR t."predictedClvMinor" IS NULL THEN t."predictedClvMinor" ELSE t."predictedClvMinor" + ${jitter(2, 100)} END`,
        pAlive: `CASE WHEN copy = 0 OR t."pAlive" IS NULL OR t."pAlive" IN (0, 1) THEN t."pAlive" ELSE t."pAlive" * (1 - ${jitter(3, 1000)} / 1e6) END`,
        chanceOfOrder90d: `CASE WHEN copy = 0 OR t."chanceOfOrder90d" IS NULL OR t."chanceOfOrder90d" IN (0, 1) THEN t."chanceOfOrder90d" ELSE t."chanceOfOrder90d" * (1 - ${jitter(4, 1000)} / 1e6) END`,
      },
    });
    counts.Order = await copyRows(client, "Order", { shifted: ["id", "customerId"], from: `JOIN copies m ON m.template_id = t."customerId"` });
    counts.Refund = await copyRows(client, "Refund", {
      shifted: ["id", "orderId"],
      from: `JOIN "Order" o ON o.shop = t.shop AND o.id = t."orderId" JOIN copies m ON m.template_id = o."customerId"`,
    });
    for (const table of ["ShopSettings", "ShopFit", "ShopAggregate", "Shop"]) {
      const key = table === "Shop" ? "domain" : "shop";
      const columns = (await columnsOf(client, table)).filter((c) => c !== "id");
      const select = columns.map((c) => (c === key ? "$2::text" : `"${c}"`));
      const result = await client.query(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) SELECT ${select.join(", ")} FROM "${table}" WHERE "${key}" = $1`,
        [TEMPLATE_SHOP, SHOP],
      );
      counts[table] = result.rowCount ?? 0;
    }
    const scale = CUSTOMERS / Number((await client.query(`SELECT count(*) FROM "Customer" WHERE shop = $1`, [TEMPLATE_SHOP])).rows[0].count);
    await scaleAggregateCounts(client, scale);
    // 90 days of daily counts per segment: today's counts (from the big shop's metrics), a
    // little lower the further back, so the trend columns have something to compare.
    const daily = await client.query(
      `INSERT INTO "SegmentDailyCount" (shop, day, kind, segment, customers, "netSpentMinor", "predictedClvMinor")
       SELECT $1, d.day, c.kind, c.segment, round(c.customers * (1 - d.back * 0.002))::int,
              round(c."netSpentMinor" * (1 - d.back * 0.002))::bigint, round(c."predictedClvMinor" * (1 - d.back * 0.002))::bigint
       FROM (SELECT kind, segment, customers * $2::float8 AS customers, "netSpentMinor" * $2::float8 AS "netSpentMinor",
                    "predictedClvMinor" * $2::float8 AS "predictedClvMinor"
             FROM "SegmentDailyCount" WHERE shop = $3 AND day = (SELECT max(day) FROM "SegmentDailyCount" WHERE shop = $3)) c,
            LATERAL (SELECT back, ((SELECT max(day) FROM "SegmentDailyCount" WHERE shop = $3) - back) AS day FROM generate_series(0, 89) AS back) d`,
      [SHOP, scale, TEMPLATE_SHOP],
    );
    counts.SegmentDailyCount = daily.rowCount ?? 0;
    // One customer in 20 changed segment in the last 90 days; one in 100 twice.
    const transitions = await client.query(
      `INSERT INTO "SegmentTransition" (shop, "customerId", "fromSegment", "toSegment", at, source)
       SELECT cm.shop, cm."customerId", prev.segment, cm.segment,
              $2::timestamp - make_interval(secs => (abs(hashint8(cm."customerId" * 31 + r)) % (90 * 86400))), CASE WHEN r = 0 THEN 'refit' ELSE 'live' END
       FROM "CustomerMetrics" cm
       CROSS JOIN generate_series(0, 1) AS r
       CROSS JOIN LATERAL (SELECT segment FROM (VALUES ('at_risk'), ('need_attention'), ('promising'), ('loyal'), ('hibernating')) AS s(segment)
                           WHERE s.segment IS DISTINCT FROM cm.segment ORDER BY hashint8(cm."customerId" + length(s.segment)) LIMIT 1) prev
       WHERE cm.shop = $1 AND cm.segment IS NOT NULL AND abs(hashint8(cm."customerId")) % (CASE WHEN r = 0 THEN 20 ELSE 100 END) = 0`,
      [SHOP, END_AT.toISOString()],
    );
    counts.SegmentTransition = transitions.rowCount ?? 0;
    // A year of webhook deliveries: processed, a few failed with their reason, a few waiting.
    const deliveries = await client.query(
      `INSERT INTO "WebhookDelivery" (shop, "webhookId", "eventId", topic, "apiVersion", "triggeredAt", "receivedAt", payload, status, error, attempts, "processedAt")
       SELECT $1, 'bench-' || i, 'bench-event-' || i, (ARRAY['orders/create', 'orders/updated', 'customers/update', 'refunds/create'])[1 + i % 4], '2026-10',
              at, at, NULL,
              (CASE WHEN i % 5000 = 0 THEN 'FAILED' WHEN i > $2 - 20 THEN 'PENDING' ELSE 'PROCESSED' END)::"DeliveryStatus",
              CASE WHEN i % 5000 = 0 THEN 'orders/updated: current_total_price_set.shop_money.amount must be a decimal amount' END,
              CASE WHEN i % 5000 = 0 THEN 5 ELSE 1 END,
              CASE WHEN i % 5000 = 0 OR i > $2 - 20 THEN NULL ELSE at END
       FROM generate_series(1, $2::int) AS i, LATERAL (SELECT $3::timestamp - make_interval(secs => ($2 - i) * 31) AS at) t`,
      [SHOP, DELIVERIES, END_AT.toISOString()],
    );
    counts.WebhookDelivery = deliveries.rowCount ?? 0;
    await client.query(
      `INSERT INTO "BackfillRun" (shop, "bulkOperationId", status, "linesProcessed", "ordersProcessed", "expectedCount", "startedAt", "finishedAt", "updatedAt")
       VALUES ($1, 'gid://shopify/BulkOperation/1', 'COMPLETED', $2, $2, $2, $3::timestamp - interval '400 days', $3::timestamp - interval '399 days', $3::timestamp - interval '399 days')`,
      [SHOP, counts.Order, END_AT.toISOString()],
    );
    await client.query(`DROP TABLE copies`);
  } finally {
    client.release();
  }
  const vacuum = await pool.connect();
  try {
    await vacuum.query("VACUUM ANALYZE");
  } finally {
    vacuum.release();
  }
  return counts;
}

/** What a refit of a large shop does to its rows' layout: a table of its own, indexes built, swapped in. */
async function moveToOwnPartition(pool: pg.Pool, shop: string): Promise<void> {
  const table = rebuildTableName(shop);
  await createRebuildTable(pool, table);
  await pool.query(`INSERT INTO "${table}" SELECT * FROM "CustomerMetrics" WHERE shop = $1`, [shop]);
  await buildIndexes(pool, table);
  await swapInPartition(pool, shop, table, async () => {});
}

/** Rows of the big shop per table (for the report when the database is reused). */
async function tableCounts(pool: pg.Pool): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["Customer", "CustomerMetrics", "Order", "WebhookDelivery", "SegmentTransition"]) {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}" WHERE shop = $1`, [SHOP]);
    counts[table] = Number(rows[0].n);
  }
  return counts;
}

type Loader = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => unknown;
interface BuildRoute {
  id: string;
  parentId?: string;
  path?: string;
  index?: boolean;
  module: { loader?: Loader };
}
interface ServerBuild {
  routes: Record<string, BuildRoute>;
}

/** The route that renders `pattern` ("app/segments/:key"): its full path matches, an index route first. */
function routeFor(build: ServerBuild, pattern: string): BuildRoute | undefined {
  const fullPath = (route: BuildRoute): string => {
    const parent = route.parentId ? build.routes[route.parentId] : undefined;
    return [parent ? fullPath(parent) : "", route.path ?? ""].filter(Boolean).join("/");
  };
  const matches = Object.values(build.routes).filter((route) => fullPath(route) === pattern);
  return matches.find((route) => route.index) ?? matches.find((route) => route.module.loader) ?? matches[0];
}

/** What Remix does with a loader's value: a Response is read, anything else JSON-encoded. */
async function callLoader(loader: Loader, url: string, params: Record<string, string>): Promise<number> {
  const started = performance.now();
  let value: unknown;
  try {
    value = await loader({ request: new Request(url), params, context: {} });
  } catch (thrown) {
    // Remix treats a thrown Response (a redirect, a 404) as the loader's answer.
    if (!(thrown instanceof Response)) throw thrown;
    value = thrown;
  }
  if (value instanceof Response) {
    if (value.status >= 400) throw new Error(`${url}: loader answered ${value.status}: ${await value.text()}`);
    await value.arrayBuffer();
  } else {
    JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
  return performance.now() - started;
}

export interface PageCase {
  /** The page, as the report names it. */
  name: string;
  /** The route's path pattern ("app/segments/:key"). */
  pattern: string;
  /** Path and query the merchant opens. */
  path: string;
  params?: Record<string, string>;
}

/** A table cursor as the page's links carry it (app/pages/customer-list.ts). */
async function cursorAt(pool: pg.Pool, sort: SortKey, direction: "asc" | "desc", where: string, offset: number): Promise<string> {
  const column = { netSpent: `"netSpentMinor"`, predictedClv: `"predictedClvMinor"`, chance90d: `"chanceOfOrder90d"`, lastOrder: `"lastOrderDay"`, orders: "orders", grossProfit: `"grossProfitMinor"` }[sort];
  const order = direction === "asc" ? "ASC" : "DESC";
  const { rows } = await pool.query<{ value: string | number | null; id: string }>(
    `SELECT ${sort === "lastOrder" ? `to_char(${column}, 'YYYY-MM-DD')` : sort === "netSpent" || sort === "predictedClv" || sort === "grossProfit" ? `${column}::text` : column} AS value,
            "customerId"::text AS id
     FROM "CustomerMetrics" WHERE shop = $1 AND ${where}
     ORDER BY ${column} ${order} NULLS LAST, "customerId" ${order} OFFSET $2 LIMIT 1`,
    [SHOP, offset],
  );
  if (!rows[0]) throw new Error(`no row at ${offset} for ${sort} ${direction} where ${where}`);
  return encodeCursor({ sort, direction, value: rows[0].value, id: rows[0].id });
}

/** The pages and table views measured; ids, keys and cursors chosen from the big shop's rows. */
async function pageCases(pool: pg.Pool): Promise<PageCase[]> {
  const segments = await pool.query<{ segment: string }>(
    `SELECT segment FROM "CustomerMetrics" WHERE shop = $1 AND segment IS NOT NULL GROUP BY segment ORDER BY count(*) DESC`,
    [SHOP],
  );
  const customer = await pool.query<{ customerId: string }>(
    `SELECT "customerId"::text AS "customerId" FROM "CustomerMetrics" WHERE shop = $1 ORDER BY orders DESC, "customerId" LIMIT 1`,
    [SHOP],
  );
  const largest = segments.rows[0]?.segment ?? "lost";
  const smallest = segments.rows[segments.rows.length - 1]?.segment ?? "need-attention";
  const id = customer.rows[0]?.customerId ?? "0";
  // Half a million rows in: where an OFFSET pager would read 500,000 rows to show 50.
  const deep = await cursorAt(pool, "netSpent", "desc", "TRUE", 500_000);
  const deepInSegment = await cursorAt(pool, "predictedClv", "desc", `segment = '${largest}'`, 100_000);
  const deepProfit = await cursorAt(pool, "grossProfit", "desc", "TRUE", 500_000);
  // A week with customers in it: from the median expected next order (the fixed week above may hold none).
  const busy = await pool.query<{ from: string; to: string }>(
    `SELECT to_char(d, 'YYYY-MM-DD') AS from, to_char(d + 6, 'YYYY-MM-DD') AS to FROM (
       SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY "expectedNextOrderDay") AS d FROM "CustomerMetrics" WHERE shop = $1 AND "expectedNextOrderDay" IS NOT NULL) AS m`,
    [SHOP],
  );
  const busyWeek = busy.rows[0]?.from ? `nextOrderFrom=${busy.rows[0].from}&nextOrderTo=${busy.rows[0].to}` : "nextOrderFrom=2026-11-20&nextOrderTo=2026-11-27";
  const customers = "/app/customers";
  const segment = (key: string) => `/app/segments/${key}`;
  return [
    { name: "layout (every page)", pattern: "app", path: "/app" },
    { name: "dashboard", pattern: "app", path: "/app" },
    { name: "segments", pattern: "app/segments", path: "/app/segments" },
    { name: "segment page, largest segment", pattern: "app/segments/:key", path: segment(largest), params: { key: largest } },
    { name: "segment page, smallest segment", pattern: "app/segments/:key", path: segment(smallest), params: { key: smallest } },
    { name: "segment page, chance of ordering ascending", pattern: "app/segments/:key", path: `${segment(largest)}?sort=chance90d&dir=asc`, params: { key: largest } },
    { name: "segment page, 100,000 rows in", pattern: "app/segments/:key", path: `${segment(largest)}?sort=predictedClv&dir=desc&after=${deepInSegment}`, params: { key: largest } },
    { name: "customers", pattern: "app/customers", path: customers },
    { name: "customers, net spent ascending", pattern: "app/customers", path: `${customers}?sort=netSpent&dir=asc` },
    { name: "customers, last order", pattern: "app/customers", path: `${customers}?sort=lastOrder&dir=desc` },
    { name: "customers, 500,000 rows in", pattern: "app/customers", path: `${customers}?sort=netSpent&dir=desc&after=${deep}` },
    { name: "customers, page before 500,000", pattern: "app/customers", path: `${customers}?sort=netSpent&dir=desc&before=${deep}` },
    { name: "customers, segment filter", pattern: "app/customers", path: `${customers}?segment=${smallest}` },
    { name: "customers, segment by chance of ordering ascending", pattern: "app/customers", path: `${customers}?segment=champions&sort=chance90d&dir=asc` },
    { name: "customers, behaviour filter", pattern: "app/customers", path: `${customers}?behaviour=at-risk-repeat-buyer` },
    { name: "customers, rare behaviour, net spent ascending", pattern: "app/customers", path: `${customers}?behaviour=vip&sort=netSpent&dir=asc` },
    { name: "customers, chance of ordering 20-40 % and expected spend >= 50", pattern: "app/customers", path: `${customers}?chanceMin=20&chanceMax=40&minClv=50` },
    { name: "customers, search by name or email", pattern: "app/customers", path: `${customers}?q=jo` },
    { name: "customer page", pattern: "app/customers/:id", path: `/app/customers/${id}`, params: { id } },
    { name: "cohorts", pattern: "app/cohorts", path: "/app/cohorts" },
    { name: "cohorts, channel filter", pattern: "app/cohorts", path: "/app/cohorts?dimension=channel&value=web" },
    // Issue 17: the drivers row, and the customers behind a driver value (a first-order probe per customer shown and counted).
    { name: "acquisition drivers", pattern: "app/drivers", path: "/app/drivers" },
    { name: "customers, first order without a code", pattern: "app/customers", path: `${customers}?acquiredBy=discountCode&acquiredValue=` },
    { name: "customers, first order in December", pattern: "app/customers", path: `${customers}?acquiredBy=firstOrderMonth&acquiredValue=12` },
    { name: "customers, expected next order in a week", pattern: "app/customers", path: `${customers}?nextOrderFrom=2026-11-20&nextOrderTo=2026-11-27` },
    { name: "customers, expected next order in a busy week", pattern: "app/customers", path: `${customers}?${busyWeek}` },
    // The gross profit column's sort (issue 17), first page and half a million rows in.
    { name: "customers, gross profit to date descending", pattern: "app/customers", path: `${customers}?sort=grossProfit&dir=desc` },
    { name: "customers, gross profit 500,000 rows in", pattern: "app/customers", path: `${customers}?sort=grossProfit&dir=desc&after=${deepProfit}` },
    { name: "model", pattern: "app/model", path: "/app/model" },
    { name: "settings", pattern: "app/settings", path: "/app/settings" },
    { name: "sync status", pattern: "app/sync", path: "/app/sync" },
  ];
}

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const { values } = parseArgs({ args: [...argv], options: { iterations: { type: "string", default: "60" }, keep: { type: "boolean", default: false }, reuse: { type: "boolean", default: false }, only: { type: "string" } }, strict: false });
  const only = typeof values.only === "string" ? values.only : null;
  const iterations = Number(values.iterations);
  const services = await ensureLocalServices({ pgDataDir: path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  const database = await benchDatabase(services.databaseUrl, DATABASE, { reuseWhen: values.reuse === true ? holdsBigShop : undefined });
  const prisma = createPrismaClient(database.url);
  const pool = createPgPool(database.url, { max: 4 });
  try {
    let counts: Record<string, number>;
    let buildSeconds: number | null = null;
    if (database.reused) {
      // Migrations added since the database was kept (an index) apply to it, then fresh statistics.
      const migrated = await applyMigrations(database.url);
      if (migrated.applied.length > 0) {
        log(`applied ${migrated.applied.join(", ")} to the kept database`);
        await pool.query("ANALYZE");
      }
      counts = await tableCounts(pool);
      log(`reusing ${DATABASE}: ${JSON.stringify(counts)}`);
    } else {
      await applyMigrations(database.url);
      let started = Date.now();
      const seeded = await seedDemoShop({ prisma, pool, shop: TEMPLATE_SHOP, customers: TEMPLATE_CUSTOMERS, seed: "tenure-demo", endAt: END_AT });
      log(`template shop: ${seeded.customers} customers, ${seeded.orders} orders, refit ${seeded.refit?.status} (${Date.now() - started} ms)`);
      started = Date.now();
      counts = await buildBigShop(pool);
      buildSeconds = round((Date.now() - started) / 1000);
      log(`big shop in ${buildSeconds} s: ${JSON.stringify(counts)}`);
    }
    // The template shop stays: a second, small tenant, as in any real database.

    await ensureAppBuild({ log, logFile: path.join(PROJECT_ROOT, ".demo", "logs", "build.log") });
    Object.assign(process.env, {
      NODE_ENV: "test",
      DATABASE_URL: database.url,
      REDIS_URL: services.redisUrl,
      SHOPIFY_API_KEY: "bench",
      SHOPIFY_API_SECRET: "bench-secret",
      SHOPIFY_APP_URL: "http://localhost",
      TENURE_DEMO_MODE: "true",
      TENURE_DEMO_SHOP: SHOP,
      TENURE_QUEUE_PREFIX: `tenure-bench-pages-${process.pid}`,
    });
    const build = (await import(pathToFileURL(SERVER_BUILD).href)) as ServerBuild;
    const results: BenchResult[] = [];
    // Measured twice: the big shop's rows in the shared partition (as copied), then in a
    // partition of its own, as its next refit leaves them (indexes without the shop column).
    for (const layout of ["shared partition", "own partition"] as const) {
      if (layout === "own partition" && !(await shopPartition(pool, SHOP))) {
        const started = Date.now();
        await moveToOwnPartition(pool, SHOP);
        log(`moved the big shop's metrics to a partition of its own in ${round((Date.now() - started) / 1000)} s`);
      }
      for (const page of await pageCases(pool)) {
        if (only !== null && !page.name.includes(only)) continue;
        const name = `${page.name} (${layout})`;
        // The layout is the non-index route at "app"; every page under it is its child.
        const route = page.name.startsWith("layout") ? build.routes["routes/app"] : routeFor(build, page.pattern);
        const loader = route?.module.loader;
        if (!loader) {
          results.push({ name, metrics: { "p95 ms": null }, target: `p95 <= ${TARGET_P95_MS} ms`, pass: false, notes: `${page.path}: no route with a loader in the build` });
          continue;
        }
        const url = `http://localhost${page.path}`;
        for (let i = 0; i < 5; i++) await callLoader(loader, url, page.params ?? {});
        const times: number[] = [];
        for (let i = 0; i < iterations; i++) times.push(await callLoader(loader, url, page.params ?? {}));
        const p95 = percentile(times, 95);
        results.push({
          name,
          notes: page.path,
          metrics: { "p50 ms": round(percentile(times, 50)), "p95 ms": round(p95), "max ms": round(Math.max(...times)), calls: iterations },
          target: `p95 <= ${TARGET_P95_MS} ms`,
          pass: p95 <= TARGET_P95_MS,
        });
        log(`${name}: p50 ${round(percentile(times, 50))} ms, p95 ${round(p95)} ms`);
      }
    }
    results.push({
      name: "the shop measured",
      metrics: { customers: counts.Customer, "scored customers": counts.CustomerMetrics, orders: counts.Order, "webhook deliveries": counts.WebhookDelivery, "segment transitions": counts.SegmentTransition, "build s": buildSeconds },
      notes: `a ${TEMPLATE_CUSTOMERS.toLocaleString("en-US")}-customer demo store (real upsert + refit) copied to ${CUSTOMERS.toLocaleString("en-US")} customers; loaders called one at a time in-process from the production build`,
    });
    return results;
  } finally {
    await prisma.$disconnect();
    await pool.end();
    if (!values.keep) await database.drop();
    await services.stop();
  }
}
