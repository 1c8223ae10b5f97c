import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type pg from "pg";
import { stringify } from "csv-stringify/sync";
import { dayIndexInZone, dayToIso } from "~/analytics/dates";
import { segmentKindOf, segmentName } from "~/display/segment-names";
import { countExportView, exportCopySql, readExportCsv } from "~/data/customer-export.server";
import { resolveSearch } from "~/data/customer-metrics-reads.server";
import { type CustomerListFilters } from "~/data/customer-table";
import { loadMetricsSettings, type MetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { parseListParams } from "./customer-list";
import { queryInStoredMoney } from "./customer-list.server";
import {
  contentDisposition,
  type ExportConsent,
  type ExportContext,
  type ExportCounts,
  exportFileName,
  type ExportPreset,
  parseExportOptions,
  presetCellsSql,
  presetHeader,
} from "./export";
import { moneyBasisOf } from "./money-basis";

// The export routes' work (issue 14, docs/exports.md): which customers a request may
// export (a segment the shop has, or the customer table's filters), the left-out counts
// the export menu shows, and the CSV itself, streamed: the header row from here, the rows
// written by PostgreSQL (COPY, ADR 0018) and read only as fast as the response is read, so
// memory stays constant.

/** The filter parameters of the customer table that an export of its view honours (its sort and page do not matter). */
const TABLE_FILTER_PARAMS = ["segment", "behaviour", "minClv", "chanceMin", "chanceMax", "q", "basis"] as const;

/** A view to export: which customers, named for the file. */
interface ExportView {
  filters: CustomerListFilters;
  /** The file name's middle part: the segment's name, or "customers". */
  title: string;
  /** The segment the file exports (its tag in some presets), null for the customer table. */
  segmentKey: string | null;
  settings: MetricsSettings;
}

/** A plain-text answer the browser shows as it is (an export link opened by hand). */
function problem(status: number, message: string): Response {
  return new Response(message, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

/** The shop has customers in the segment now (scored in it): the segment is the shop's to export. */
async function segmentInShop(db: Queryable, shop: string, key: string, kind: "rfm" | "behaviour"): Promise<boolean> {
  const result = await db.query(
    kind === "rfm"
      ? `SELECT 1 FROM "CustomerMetrics" WHERE shop = $1 AND segment = $2 LIMIT 1`
      : `SELECT 1 FROM "CustomerMetrics" WHERE shop = $1 AND behaviours @> ARRAY[$2]::text[] LIMIT 1`,
    [shop, key],
  );
  return result.rows.length > 0;
}

/**
 * A segment's view, or the answer when there is none for this shop: 404 for a key that
 * names no segment, and for a segment with none of this shop's customers in it (never an
 * empty file that would pass for "nobody qualifies").
 */
export async function segmentExportView(db: Queryable, shop: string, key: string): Promise<ExportView | Response> {
  const kind = segmentKindOf(key);
  if (!kind) return problem(404, `There is no segment called "${key}".`);
  const [settings, present] = await Promise.all([loadMetricsSettings(db, shop), segmentInShop(db, shop, key, kind)]);
  if (!present) return problem(404, `Your shop has no customers in the segment "${segmentName(key, settings.segmentLabels)}" (${key}), so there is nothing to export.`);
  return {
    filters: kind === "rfm" ? { segment: key } : { behaviour: key },
    title: segmentName(key, settings.segmentLabels),
    segmentKey: key,
    settings,
  };
}

/** The customer table's current filters (its URL's), or 400 with what is wrong: an export never drops a filter the way the table's page does. */
export async function tableExportView(db: Queryable, shop: string, params: URLSearchParams): Promise<ExportView | Response> {
  const settings = await loadMetricsSettings(db, shop);
  const filterParams = new URLSearchParams();
  for (const name of TABLE_FILTER_PARAMS) {
    const value = params.get(name);
    if (value !== null) filterParams.set(name, value);
  }
  const { query, problems } = parseListParams(filterParams, settings.currency);
  if (problems.length > 0) return problem(400, `The export was not made: ${problems.join(" ")}`);
  const stored = queryInStoredMoney(query, moneyBasisOf(filterParams, settings.grossMargin, settings.costs));
  const filters: CustomerListFilters = {
    segment: stored.segment,
    behaviour: stored.behaviour,
    minPredictedClvMinor: stored.minPredictedClvMinor,
    chanceMin: stored.chanceMin,
    chanceMax: stored.chanceMax,
    search: stored.search,
  };
  return { filters, title: "customers", segmentKey: null, settings };
}

/** How many customers of the view an export holds and leaves out (the export menu's counts). */
export async function exportCounts(db: Queryable, shop: string, view: ExportView): Promise<ExportCounts> {
  const search = await resolveSearch(db, shop, view.filters.search);
  return countExportView(db, shop, view.filters, search);
}

/**
 * Waits while the client's socket holds more than it can take (server.mjs hands the Node
 * response to loaders as `context.res`). @remix-run/express writes a body to the socket as
 * fast as the body yields, ignoring backpressure, so a slow download would otherwise pile
 * the whole file up in this process; null when there is no socket to watch (a test).
 * Resolves "gone" once the client has gone away: the request's abort signal alone was seen
 * not to fire for a client that stopped reading and then left, which left the COPY waiting.
 */
export function socketBackpressure(loadContext: unknown): (() => Promise<"ready" | "gone">) | null {
  const res = (loadContext as { res?: ServerResponse } | null)?.res;
  if (!res) return null;
  const gone = () => res.destroyed || res.socket === null || res.socket.destroyed;
  return async () => {
    if (gone()) return "gone";
    const socket = res.socket!;
    if (socket.writableNeedDrain) await Promise.race([once(socket, "drain"), once(socket, "close"), once(res, "close")]);
    return gone() ? "gone" : "ready";
  };
}

/** The CSV as a stream: the header row, then PostgreSQL's CSV a buffer at a time, each read only when the response wants more. */
function csvStream(
  batches: AsyncGenerator<Buffer, void, undefined>,
  preset: ExportPreset,
  context: ExportContext,
  request: Request,
  drained: (() => Promise<"ready" | "gone">) | null,
): ReadableStream<Uint8Array> {
  // The request, not only its signal, is held for the stream's life: undici links a
  // Request's signal to the one it was made with through a weak reference to the Request,
  // so a collected Request would never hear that the browser went away.
  const signal = request.signal;
  const encoder = new TextEncoder();
  let headerSent = false;
  // The tenure preset is read in spreadsheets: a byte order mark makes Excel read UTF-8. The
  // import presets go to importers that take UTF-8 as it is.
  const bom = preset === "tenure" ? "\uFEFF" : "";
  const stop = () => {
    void batches.return(undefined).catch(() => undefined);
  };
  // The Remix adapter keeps reading after the browser goes away: the request's abort stops the COPY.
  signal.addEventListener("abort", stop, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!headerSent) {
            headerSent = true;
            controller.enqueue(encoder.encode(bom + stringify([presetHeader(preset, context)])));
            return;
          }
          const clientGone = drained !== null && (await drained()) === "gone";
          if (clientGone) await batches.return(undefined);
          const next = clientGone || request.signal.aborted ? { done: true as const, value: undefined } : await batches.next();
          if (next.done) {
            signal.removeEventListener("abort", stop);
            controller.close();
            return;
          }
          controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        } catch (error) {
          signal.removeEventListener("abort", stop);
          controller.error(error);
        }
      },
      async cancel() {
        signal.removeEventListener("abort", stop);
        await batches.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The export's response: 200 with the CSV streamed, or 400 for a preset or consent choice that is not one of ours. */
export async function exportResponse(
  pool: pg.Pool,
  shop: string,
  view: ExportView | Response,
  request: Request,
  loadContext: unknown = null,
): Promise<Response> {
  if (view instanceof Response) return view;
  const options = parseExportOptions(new URL(request.url).searchParams);
  if (!options.ok) return problem(400, options.message);
  const search = await resolveSearch(pool, shop, view.filters.search);
  const context: ExportContext = {
    currency: view.settings.currency,
    labels: view.settings.segmentLabels,
    horizonDays: view.settings.horizonDays,
    segmentKey: view.segmentKey,
  };
  const today = dayToIso(dayIndexInZone(new Date(), view.settings.timezone));
  const fileName = exportFileName(shop, consentTitle(view.title, options.consent), today);
  const copySql = exportCopySql(shop, view.filters, search, {
    subscribedOnly: options.consent === "subscribed",
    cellsSql: presetCellsSql(options.preset, context),
  });
  // Stopped by the request's abort or the response's close, whichever is heard first.
  const res = (loadContext as { res?: ServerResponse } | null)?.res;
  const responseClosed = new AbortController();
  res?.once("close", () => responseClosed.abort());
  const batches = readExportCsv(pool, copySql, AbortSignal.any([request.signal, responseClosed.signal]));
  return new Response(csvStream(batches, options.preset, context, request, socketBackpressure(loadContext)), {
    status: 200,
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": contentDisposition(fileName),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

/** An export of everyone says so in its name ("champions-all-customers"): it is not a sending list. */
function consentTitle(title: string, consent: ExportConsent): string {
  return consent === "all" ? `${title} all customers` : title;
}
