import type { Readable } from "node:stream";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { checkOut, type Queryable } from "~/db/pg.server";
import { inlineSqlParameters } from "~/db/sql-literal";
import { filterSql, type ResolvedSearch } from "./customer-metrics-reads.server";
import { EMAIL_SUBSCRIBED, type ExportRow } from "./customer-export";
import { type CustomerListFilters } from "./customer-table";

export type { ExportRow };

// The export's reads (issue 14; the file itself is app/pages/export.server.ts): the view's
// customers (a segment, or the customer table's filters, the same SQL as the table's) as
// CSV written by PostgreSQL (COPY ... TO STDOUT, ADR 0018), read only as fast as the
// response is read, so memory stays constant however large the shop; the same rows as
// objects through a cursor (readExportRows: tests compare the two); and how many of the
// view an export by consent leaves out, and why.


/**
 * Rows per FETCH. With one batch read ahead, round trips do not limit the rate; smaller
 * batches die young in V8's new space instead of being promoted (bench/export.bench.ts at
 * 100,000 rows: 500 rows sent 2x faster with half the RSS growth of 2,000).
 */
export const EXPORT_BATCH_ROWS = 500;


const utc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

// Dates and bigints as text in SQL: exact, and nothing to parse per row in Node.
const EXPORT_COLUMNS = `cm."customerId"::text AS id, c.email, c."firstName", c."lastName", c.phone, coalesce(c.tags, '{}') AS tags,
  cm."rScore", cm."fScore", cm."mScore", cm.segment, cm.behaviours, cm.orders,
  cm."netSpentMinor"::text AS "netSpentMinor", cm."predictedClvMinor"::text AS "predictedClvMinor",
  cm."expectedPurchases365d", cm."expectedOrderValueMinor"::text AS "expectedOrderValueMinor",
  cm."chanceOfOrder90d", cm."chanceOfOrder365d", cm."pAlive",
  to_char(cm."expectedNextOrderDay", 'YYYY-MM-DD') AS "expectedNextOrderDay",
  to_char(cm."firstOrderDay", 'YYYY-MM-DD') AS "firstOrderDay", to_char(cm."lastOrderDay", 'YYYY-MM-DD') AS "lastOrderDay",
  c."emailConsentState", c."emailOptInLevel", ${utc(`c."emailConsentUpdatedAt"`)} AS "emailConsentUpdatedAt",
  c."smsConsentState", c."smsOptInLevel", ${utc(`c."smsConsentUpdatedAt"`)} AS "smsConsentUpdatedAt"`;

const HAS_EMAIL = `coalesce(btrim(c.email), '') <> ''`;

/** The view's rows as SQL: `shop = $1` first, the table's own filters, then the consent choice. */
function viewSql(shop: string, filters: CustomerListFilters, search: ResolvedSearch, subscribedOnly: boolean) {
  const params: unknown[] = [shop];
  const conditions = filterSql(filters, search, params);
  let consent = "";
  if (subscribedOnly) {
    params.push(EMAIL_SUBSCRIBED);
    consent = ` AND ${HAS_EMAIL} AND c."emailConsentState" = $${params.length}`;
  }
  return {
    sql: `FROM "CustomerMetrics" AS cm
      LEFT JOIN "Customer" AS c ON c.shop = cm.shop AND c.id = cm."customerId"
      WHERE cm.shop = $1${conditions}${consent}`,
    params,
  };
}

/** The COPY statement of a view: one CSV line per customer, each cell one of `cellsSql` (text or null; tables `cm`, `c`), in customer id order. */
export function exportCopySql(
  shop: string,
  filters: CustomerListFilters,
  search: ResolvedSearch,
  options: { subscribedOnly: boolean; cellsSql: readonly string[] },
): string {
  const { sql, params } = viewSql(shop, filters, search, options.subscribedOnly);
  const cells = options.cellsSql.map((cell, index) => `nullif((${cell})::text, '') AS c${index}`).join(",\n  ");
  // The comment names the statement in pg_stat_activity (tests and operators find a running export by it).
  return `COPY /* tenure_export */ (SELECT ${cells}\n ${inlineSqlParameters(sql, params)} ORDER BY cm."customerId") TO STDOUT WITH (FORMAT csv)`;
}

/** Bytes the COPY stream holds before PostgreSQL's socket is paused (its backpressure): large enough that each read takes many rows. */
const COPY_BUFFER_BYTES = 256 * 1024;

/** The least a chunk of the file holds (but the last). */
const COPY_CHUNK_BYTES = 64 * 1024;

/** What the stream has buffered (all of it, one Buffer), waiting for some when it has none; null at its end. */
function readAvailable(stream: Readable): Promise<Buffer | null> {
  const ready = stream.read() as Buffer | null;
  if (ready !== null) return Promise.resolve(ready);
  if (stream.readableEnded) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        done();
        resolve(chunk);
      }
    };
    const onEnd = () => {
      done();
      resolve(null);
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      done();
      if (stream.readableEnded) resolve(null);
      else reject(new Error("The export's COPY stream closed before its end."));
    };
    stream.on("readable", onReadable);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

/**
 * The view's CSV lines as PostgreSQL writes them (exportCopySql), a buffer at a time, on a
 * client of its own. The COPY runs only as fast as this is read: between reads PostgreSQL's
 * socket is paused once COPY_BUFFER_BYTES are waiting. Whoever stops early calls `return()`
 * (a `for await` loop does on break or throw): a COPY cannot be left half-read on a
 * connection, so the client is destroyed, which ends the query on the server.
 */
export async function* readExportCsv(pool: pg.Pool, copySql: string, stopped?: AbortSignal): AsyncGenerator<Buffer, void, undefined> {
  const client = await checkOut(pool);
  let finished = false;
  let failure: Error | undefined;
  // Floats as the shortest text that reads back as the same double, as JS writes numbers
  // (PostgreSQL's default since 12; pinned here so a server or role setting cannot change a cell).
  const copy = copyTo(copySql, { highWaterMark: COPY_BUFFER_BYTES });
  // Closed at once rather than ended: a graceful end waits for PostgreSQL, which is blocked
  // writing the rest of the COPY to a socket nobody reads.
  const closeConnection = () => {
    copy.on("error", () => undefined);
    copy.destroy();
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  // The reader going away ends the COPY wherever this generator is waiting, not only at a yield.
  stopped?.addEventListener("abort", closeConnection, { once: true });
  try {
    if (stopped?.aborted) throw new Error("The export was stopped before its COPY began.");
    await client.query("BEGIN READ ONLY");
    await client.query("SET LOCAL extra_float_digits = 1");
    // Dates as YYYY-MM-DD (the cells write a date as its text: app/pages/export.ts daySql).
    await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
    client.query(copy);
    // Rows gathered to about COPY_CHUNK_BYTES per yield: each chunk costs the response a
    // promise, an enqueue and a socket write, whatever its size.
    for (let ended = false; !ended; ) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      while (bytes < COPY_CHUNK_BYTES) {
        const chunk = await readAvailable(copy);
        if (chunk === null) {
          ended = true;
          break;
        }
        chunks.push(chunk);
        bytes += chunk.length;
      }
      if (bytes > 0) yield chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes);
    }
    await client.query("COMMIT");
    finished = true;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    stopped?.removeEventListener("abort", closeConnection);
    // The destroyed connection fails the COPY once more ("Connection terminated"): nobody is reading by then.
    if (!finished) closeConnection();
    client.release(finished ? undefined : (failure ?? new Error("The export stopped before the end of its COPY.")));
  }
}

/**
 * The view's customers in customer id order, a batch at a time, read through a cursor
 * (DECLARE ... CURSOR in a read-only transaction on a client of its own). Whoever stops
 * early calls `return()` on the iterator (a `for await` loop does on break or throw): the
 * transaction is rolled back and the client goes back to the pool; a client whose
 * connection failed is destroyed instead.
 */
export async function* readExportRows(
  pool: pg.Pool,
  shop: string,
  filters: CustomerListFilters,
  search: ResolvedSearch,
  options: { subscribedOnly: boolean; batchRows?: number },
): AsyncGenerator<ExportRow[], void, undefined> {
  const batch = options.batchRows ?? EXPORT_BATCH_ROWS;
  const { sql, params } = viewSql(shop, filters, search, options.subscribedOnly);
  const client = await checkOut(pool);
  let failure: Error | undefined;
  try {
    await client.query("BEGIN READ ONLY");
    await client.query(`DECLARE tenure_export NO SCROLL CURSOR FOR SELECT ${EXPORT_COLUMNS} ${sql} ORDER BY cm."customerId"`, params);
    const fetchBatch = () => {
      const next = client.query<ExportRow>(`FETCH FORWARD ${batch} FROM tenure_export`);
      next.catch(() => undefined); // awaited below; not an unhandled rejection if the reader stops first
      return next;
    };
    // The next batch is read by PostgreSQL while the reader turns this one into CSV (one batch
    // ahead, no more: memory stays at two batches).
    let pending = fetchBatch();
    for (;;) {
      const result = await pending;
      const more = result.rows.length === batch;
      if (more) pending = fetchBatch();
      if (result.rows.length > 0) yield result.rows;
      if (!more) break;
    }
    await client.query("COMMIT");
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    if (failure) {
      client.release(failure);
    } else {
      // Finished, or stopped early by the reader: ROLLBACK closes the cursor (a no-op after COMMIT).
      await client.query("ROLLBACK").then(
        () => client.release(),
        (error: Error) => client.release(error),
      );
    }
  }
}

/** The view's customers and how many a subscribed-only export leaves out, by reason (one pass over the view). */
export async function countExportView(
  db: Queryable,
  shop: string,
  filters: CustomerListFilters,
  search: ResolvedSearch,
): Promise<{ customers: number; subscribed: number; noEmail: number; notSubscribed: number }> {
  const { sql, params } = viewSql(shop, filters, search, false);
  params.push(EMAIL_SUBSCRIBED);
  const subscribed = `$${params.length}`;
  const result = await db.query<{ customers: number; subscribed: number; noEmail: number; notSubscribed: number }>(
    `SELECT count(*)::int AS customers,
            count(*) FILTER (WHERE ${HAS_EMAIL} AND c."emailConsentState" = ${subscribed})::int AS subscribed,
            count(*) FILTER (WHERE NOT ${HAS_EMAIL})::int AS "noEmail",
            count(*) FILTER (WHERE ${HAS_EMAIL} AND c."emailConsentState" IS DISTINCT FROM ${subscribed})::int AS "notSubscribed"
     ${sql}`,
    params,
  );
  return result.rows[0];
}
