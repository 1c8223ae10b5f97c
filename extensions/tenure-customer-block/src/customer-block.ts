// The customer details block's logic, kept out of the UI file so it is unit-tested
// (tests/extensions/customer-block.test.ts): the customer id from admin's selection, the
// request to Tenure's app route, the answer checked and turned into the block's state, and
// the rows the block shows. No Preact, no globals: the fetch is passed in.
//
// The extension is bundled on its own and cannot import app/, so the response shape is
// declared here again (app/pages/customer-block.ts is the server's side; the page test
// feeds this parser the loader's real answers).

export interface BlockFigure<Value> {
  label: string;
  value: Value | null;
  text: string;
}

export interface CustomerBlockMetrics {
  segment: { key: string | null; name: string };
  expectedSpend: BlockFigure<number>;
  spentToDate: BlockFigure<number>;
  chanceOfOrder90d: BlockFigure<number>;
  expectedNextOrder: BlockFigure<string>;
  /** The day the scores are as of. */
  scoredAsOf: BlockFigure<string>;
  currency: string;
}

export interface CustomerBlockData {
  customerId: string;
  tenurePath: string;
  metrics: CustomerBlockMetrics | null;
}

export const BLOCK_HEADING = "Tenure";

/** What the block shows while loading, once answered, or when it cannot. */
export type BlockState =
  | { kind: "loading" }
  | { kind: "not-scored"; message: string; link: string | null }
  | { kind: "scored"; view: BlockView }
  | { kind: "error"; message: string };

export interface BlockView {
  segmentName: string;
  /** Null when the customer is in no RFM segment (a customer without counted orders). */
  segmentKey: string | null;
  rows: { label: string; text: string }[];
  asOfText: string;
  link: string;
  /** One line for the block when admin shows it collapsed. */
  summary: string;
}

export const LOADING: BlockState = { kind: "loading" };

const NOT_SCORED_MESSAGE = "Not scored yet. Tenure scores a customer within seconds of their first order, and every customer at the next refit.";
const UNKNOWN_MESSAGE = "Not scored yet. Tenure has not seen this customer: they appear after their first order or the next sync.";
const MISSING = "—";

/** "gid://shopify/Customer/123" -> "123"; null for anything else. */
export function customerIdOfGid(gid: string | null | undefined): string | null {
  const match = /^gid:\/\/shopify\/Customer\/(\d{1,19})$/.exec(gid ?? "");
  return match ? match[1] : null;
}

/** The app route the block reads; relative, so admin resolves it against the app's URL and adds the session token. */
export function metricsPath(customerId: string): string {
  return `/api/customers/${customerId}/metrics`;
}

/** The customer's page in Tenure: admin extensions link to a path of their app with the app: protocol. */
export function tenureLink(tenurePath: string): string {
  return `app:${tenurePath.replace(/^\/+/, "")}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === "string";

function isFigure(value: unknown, kind: "number" | "string"): boolean {
  return isObject(value) && isText(value.label) && isText(value.text) && (value.value === null || typeof value.value === kind);
}

/** The route's 200 body, checked field by field; null when it is not that shape (an old or broken server). */
export function parseCustomerBlockResponse(body: unknown): CustomerBlockData | null {
  if (!isObject(body) || !isText(body.customerId) || !isText(body.tenurePath)) return null;
  const m = body.metrics;
  if (m === null) return { customerId: body.customerId, tenurePath: body.tenurePath, metrics: null };
  if (!isObject(m) || !isObject(m.segment) || !isText(m.segment.name) || !(m.segment.key === null || isText(m.segment.key))) return null;
  if (!isFigure(m.expectedSpend, "number") || !isFigure(m.spentToDate, "number") || !isFigure(m.chanceOfOrder90d, "number")) return null;
  if (!isFigure(m.expectedNextOrder, "string") || !isFigure(m.scoredAsOf, "string") || !isText(m.currency)) return null;
  return body as unknown as CustomerBlockData;
}

/** The rows of a scored customer, in the order the issue lists them, and the collapsed summary. */
export function blockView(data: CustomerBlockData & { metrics: CustomerBlockMetrics }): BlockView {
  const m = data.metrics;
  const figures = [m.expectedSpend, m.spentToDate, m.chanceOfOrder90d, m.expectedNextOrder];
  const rows = [{ label: "Segment", text: m.segment.name }, ...figures.map((figure) => ({ label: figure.label, text: figure.text || MISSING }))];
  const chance = m.chanceOfOrder90d.value === null ? null : `${m.chanceOfOrder90d.text} chance of ordering in 90 days`;
  return {
    segmentName: m.segment.name,
    segmentKey: m.segment.key,
    rows,
    asOfText: `${m.scoredAsOf.label} ${m.scoredAsOf.text}`,
    link: tenureLink(data.tenurePath),
    summary: [m.segment.name, chance].filter(Boolean).join(" · "),
  };
}

/** The block's state from the route's answer (status and parsed JSON body, or undefined when the body was not JSON). */
export function stateOfResponse(status: number, body: unknown): BlockState {
  if (status === 404) return { kind: "not-scored", message: UNKNOWN_MESSAGE, link: null };
  if (status === 401 || status === 403) return { kind: "error", message: "Tenure could not confirm your session. Reload the page, or open Tenure once to finish installing it." };
  if (status !== 200) {
    const reason = isObject(body) && isText(body.error) ? ` ${body.error}` : "";
    return { kind: "error", message: `Tenure could not load this customer's figures (error ${status}).${reason}` };
  }
  const data = parseCustomerBlockResponse(body);
  if (!data) return { kind: "error", message: "Tenure answered in a form this block does not read. Reload the page to get the newest version." };
  if (!data.metrics) return { kind: "not-scored", message: NOT_SCORED_MESSAGE, link: tenureLink(data.tenurePath) };
  return { kind: "scored", view: blockView({ ...data, metrics: data.metrics }) };
}

type Fetch = (input: string, init?: { headers?: Record<string, string> }) => Promise<{ status: number; json(): Promise<unknown> }>;

/** Asks Tenure about the customer admin shows; never throws (a failure is the error state). */
export async function loadBlockState(selectedGid: string | null | undefined, fetcher: Fetch): Promise<BlockState> {
  const id = customerIdOfGid(selectedGid);
  if (!id) return { kind: "error", message: "This page shows no customer Tenure can look up." };
  try {
    const response = await fetcher(metricsPath(id), { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => undefined);
    return stateOfResponse(response.status, body);
  } catch {
    return { kind: "error", message: "Tenure could not be reached. Check your connection and reload the page." };
  }
}
