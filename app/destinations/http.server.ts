// The one HTTP client of the destinations room (Klaviyo, Mailchimp): JSON in and out, a
// rate limiter per call, Retry-After honoured, 5xx and network trouble retried with
// exponential backoff and full jitter, and the two errors the sync engine acts on
// (adapter.ts): DestinationAuthError (pause) and DestinationRetryableError (keep the
// changes for a later pass). Other 4xx answers go back to the caller, which knows what a
// refusal of its own request means.

import { DestinationAuthError, DestinationRetryableError } from "./adapter";

/** Hands out permission to send one request; `acquire` resolves when the budget allows it. */
export interface RateLimiter {
  acquire(): Promise<void>;
}

export interface RequestOptions extends RequestInit {
  limiter?: RateLimiter;
  /** Further tries after a 5xx, a network error or a timeout (default 5). */
  retries?: number;
  /** Further tries after a 429 (default 10): each waits what Retry-After says. */
  rateLimitRetries?: number;
  /** Per-attempt deadline for the answer and its body (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** A Retry-After longer than this is not waited out here: the error carries it instead (default 60 s). */
  maxRetryAfterMs?: number;
  /** First backoff ceiling (default 500 ms), doubled per try up to maxBackoffMs (default 30 s). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Injected in unit tests so backoff and Retry-After waits are recorded, not slept. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** false: 401/403 come back as answers instead of DestinationAuthError (a key check reads them itself). Default true. */
  throwOnAuthError?: boolean;
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; null when the body is empty or not JSON. */
  body: T | null;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const DEFAULTS = {
  retries: 5,
  rateLimitRetries: 10,
  timeoutMs: 30_000,
  maxRetryAfterMs: 60_000,
  baseBackoffMs: 500,
  maxBackoffMs: 30_000,
};

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** "Full jitter" (uniform in [0, ceiling]), the ceiling doubling per attempt: spreads retrying clients apart. */
export function backoffMs(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.round(random() * ceiling);
}

/**
 * The human sentence of an error body: Klaviyo's JSON:API `errors[0].detail` (or title),
 * Mailchimp's problem document `detail` (or title), else null.
 */
export function errorDetail(body: unknown): string | null {
  if (body === null || typeof body !== "object") return null;
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.errors) && record.errors.length > 0) {
    const first = record.errors[0] as Record<string, unknown>;
    const text = first.detail ?? first.title ?? first.code;
    if (typeof text === "string" && text !== "") return text;
  }
  const text = record.detail ?? record.title ?? record.message;
  return typeof text === "string" && text !== "" ? text : null;
}

class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Sends one request and returns its JSON answer, retrying what is worth retrying.
 * Throws DestinationAuthError on 401/403, DestinationRetryableError when 5xx, timeouts,
 * network errors or 429s outlast the retries; returns every other status.
 */
export async function requestJson<T>(url: string, options: RequestOptions = {}): Promise<JsonResponse<T>> {
  const {
    limiter,
    retries = DEFAULTS.retries,
    rateLimitRetries = DEFAULTS.rateLimitRetries,
    timeoutMs = DEFAULTS.timeoutMs,
    fetch: fetchFn = globalThis.fetch,
    maxRetryAfterMs = DEFAULTS.maxRetryAfterMs,
    baseBackoffMs = DEFAULTS.baseBackoffMs,
    maxBackoffMs = DEFAULTS.maxBackoffMs,
    sleep: wait = sleep,
    random = Math.random,
    throwOnAuthError = true,
    ...init
  } = options;
  const method = (init.method ?? "GET").toUpperCase();
  const what = `${method} ${describeUrl(url)}`;
  let failures = 0;
  let rateLimited = 0;

  for (;;) {
    if (limiter) await limiter.acquire();
    init.signal?.throwIfAborted();
    let status: number;
    let headers: Headers;
    let body: unknown;
    try {
      ({ status, headers, body } = await attempt(fetchFn, url, init, timeoutMs));
    } catch (error) {
      if (init.signal?.aborted) throw error;
      // Network error or timeout: the request may or may not have landed; every call
      // this client makes is idempotent or harmless to repeat (imports are upserts).
      if (failures >= retries) {
        throw new DestinationRetryableError(`${what}: ${describeError(error)} (after ${failures + 1} tries)`);
      }
      await wait(backoffMs(failures, baseBackoffMs, maxBackoffMs, random));
      failures += 1;
      continue;
    }

    // A CDN's bot challenge (Cloudflare marks it `cf-mitigated`) is a 403 about the request,
    // not the key: seen intermittently in front of Klaviyo, it must not pause a sync.
    const challenged = status === 403 && headers.has("cf-mitigated");
    if ((status === 401 || status === 403) && throwOnAuthError && !challenged) {
      throw new DestinationAuthError(errorDetail(body) ?? `${what} answered ${status}`);
    }
    if (status === 429) {
      const retryAfter = parseRetryAfter(headers.get("retry-after"));
      if (rateLimited >= rateLimitRetries || (retryAfter !== null && retryAfter > maxRetryAfterMs)) {
        throw new DestinationRetryableError(`${what}: rate limited (429) ${rateLimited + 1} times`, retryAfter);
      }
      // No Retry-After: back off as for a 5xx, at least a second.
      await wait(retryAfter ?? Math.max(1000, backoffMs(rateLimited, baseBackoffMs, maxBackoffMs, random)));
      rateLimited += 1;
      continue;
    }
    if (status >= 500 || challenged) {
      const retryAfter = parseRetryAfter(headers.get("retry-after"));
      if (failures >= retries) {
        const detail = errorDetail(body);
        throw new DestinationRetryableError(
          `${what} answered ${status}${detail ? `: ${detail}` : ""} (after ${failures + 1} tries)`,
          retryAfter,
        );
      }
      const backoff = backoffMs(failures, baseBackoffMs, maxBackoffMs, random);
      await wait(retryAfter !== null ? Math.min(maxRetryAfterMs, Math.max(retryAfter, backoff)) : backoff);
      failures += 1;
      continue;
    }
    return { status, headers, body: body as T | null };
  }
}

async function attempt(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(init.signal?.reason);
  init.signal?.addEventListener("abort", onCallerAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new AttemptTimeout(timeoutMs));
      controller.abort(new AttemptTimeout(timeoutMs));
    }, timeoutMs);
  });
  try {
    // The deadline covers the body too: a server that sends headers and then stalls is a timeout.
    return await Promise.race([
      (async () => {
        const response = await fetchFn(url, { ...init, signal: controller.signal });
        const text = await response.text();
        return { status: response.status, headers: response.headers, body: parseJson(text) };
      })(),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    init.signal?.removeEventListener("abort", onCallerAbort);
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/** The URL without its query string: logs and errors name the endpoint, not filters holding emails. */
function describeUrl(url: string): string {
  const queryAt = url.indexOf("?");
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

/** One limit: at most `limit` requests in any `windowMs`. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

/**
 * A sliding-window limiter: at most `limit` acquisitions in ANY span of `windowMs`, for each
 * window at once (Klaviyo states a burst per second and a steady rate per minute, each a
 * window of its own, so one token bucket would let through more than the minute allows).
 * Waiters are served in order. `marginMs` widens each window a little, so a request sent at
 * the window's edge does not land in the server's previous window.
 */
export function slidingWindowLimiter(
  windows: readonly RateWindow[],
  options: { marginMs?: number; now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
): RateLimiter {
  const { marginMs = 50, now = Date.now, sleep: wait = sleep } = options;
  const longest = Math.max(...windows.map((window) => window.limit));
  const sent: number[] = []; // acquisition times, oldest first, at most `longest` kept
  let tail: Promise<void> = Promise.resolve();

  const delayNeeded = (at: number): number => {
    let delay = 0;
    for (const { limit, windowMs } of windows) {
      if (sent.length < limit) continue;
      const oldestInWindow = sent[sent.length - limit];
      delay = Math.max(delay, oldestInWindow + windowMs + marginMs - at);
    }
    return delay;
  };

  const take = async (): Promise<void> => {
    for (;;) {
      const delay = delayNeeded(now());
      if (delay <= 0) break;
      await wait(delay);
    }
    sent.push(now());
    if (sent.length > longest) sent.splice(0, sent.length - longest);
  };

  return {
    acquire() {
      const turn = tail.then(take);
      tail = turn.catch(() => {});
      return turn;
    },
  };
}
