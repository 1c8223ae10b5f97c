// The demo's orchestration polls PostgreSQL for minutes while the worker runs; a database
// restart in that time (a failover, a stop for maintenance) must make it wait, not die
// (issue 12, finding 1). The worker's own transactions fail and retry through their queues;
// these reads only wait for the database to come back.

const UNAVAILABLE_SQLSTATES = new Set([
  "57P01", // admin_shutdown: terminating connection due to administrator command
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: the database system is shutting down / starting up
  "53300", // too_many_connections
]);
/** Prisma's codes for a database it cannot reach or whose connection closed. */
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1017"]);
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);
const UNAVAILABLE_MESSAGE =
  /can't reach database server|the database system is (shutting down|starting up|in recovery)|connection terminated|terminating connection due to administrator command|server closed the connection unexpectedly|server has closed the connection|timeout exceeded when trying to connect|ECONNREFUSED|ECONNRESET/i;

/**
 * Whether `error` says the database is down or restarting rather than that the query is
 * wrong. node-pg errors carry a SQLSTATE or a socket code; Prisma's driver adapter wraps
 * them (in `cause`, or in `meta` and the message of a raw query), so all three are read.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    const { code, message, meta, cause } = current as { code?: unknown; message?: unknown; meta?: unknown; cause?: unknown };
    if (typeof code === "string") {
      if (code.startsWith("08") && code.length === 5) return true; // connection_exception class
      if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_NODE_CODES.has(code)) return true;
    }
    if (typeof message === "string" && UNAVAILABLE_MESSAGE.test(message)) return true;
    if (meta && typeof meta === "object" && UNAVAILABLE_MESSAGE.test(JSON.stringify(meta))) return true;
    current = cause;
  }
  return false;
}

export interface OutageOptions {
  /** Give up (rethrow the database's error) after this moment, epoch ms. */
  deadline: number;
  signal?: AbortSignal;
  /** Told once when the database goes away and once when it is back. */
  onOutage?: (line: string) => void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/**
 * Runs `read`, and while it fails because the database is unavailable runs it again after
 * a pause that doubles up to 5 s, until it succeeds or the deadline passes. Any other
 * error is thrown at once.
 */
export async function readThroughOutages<T>(read: () => Promise<T>, options: OutageOptions): Promise<T> {
  let downSince: number | undefined;
  let pauseMs = FIRST_RETRY_MS;
  for (;;) {
    try {
      const value = await read();
      if (downSince !== undefined) options.onOutage?.(`the database is back after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
      return value;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() >= options.deadline || options.signal?.aborted) throw error;
      if (downSince === undefined) {
        downSince = Date.now();
        const reason = (error instanceof Error ? error.message : String(error)).trim().split("\n").at(-1);
        options.onOutage?.(`the database is unavailable (${reason}); waiting for it to come back`);
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, MAX_RETRY_MS);
    }
  }
}
