import { describe, expect, it } from "vitest";
import { DestinationAuthError, DestinationRetryableError } from "./adapter";
import { backoffMs, errorDetail, parseRetryAfter, requestJson, slidingWindowLimiter } from "./http.server";

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | "network-error" | "hang";

/** A fetch that plays the given answers in order (the last one repeats) and records each call. */
function scriptedFetch(answers: Answer[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (answer === "network-error") throw new TypeError("fetch failed", { cause: new Error("ECONNRESET") });
    if (answer === "hang") {
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    }
    const text = answer.body === undefined ? null : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: answer.headers });
  }) as typeof fetch;
  return { fetchFn, calls };
}

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe("requestJson", () => {
  it("returns the parsed body of a 2xx and sends what it was given", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 200, body: { data: { id: "L1" } } }]);
    const answer = await requestJson<{ data: { id: string } }>("https://x.test/api/lists?filter=a", {
      method: "POST",
      headers: { revision: "2025-10-15" },
      body: "{}",
      fetch: fetchFn,
    });
    expect(answer.status).toBe(200);
    expect(answer.body?.data.id).toBe("L1");
    expect(calls[0].init.method).toBe("POST");
    expect(new Headers(calls[0].init.headers).get("revision")).toBe("2025-10-15");
  });

  it("returns an empty body as null (204)", async () => {
    const { fetchFn } = scriptedFetch([{ status: 204 }]);
    expect((await requestJson("https://x.test/a", { fetch: fetchFn, retries: 0 })).body).toBeNull();
  });

  it("returns other 4xx answers to the caller, untried again", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 400, body: { errors: [{ detail: "bad filter" }] } }]);
    const answer = await requestJson("https://x.test/a", { fetch: fetchFn });
    expect(answer.status).toBe(400);
    expect(calls).toHaveLength(1);
  });

  it("throws DestinationAuthError on 401 and 403 with the body's detail", async () => {
    for (const status of [401, 403]) {
      const { fetchFn } = scriptedFetch([
        { status, body: { errors: [{ status, code: "permission_denied", title: "Forbidden", detail: "missing scope lists:write" }] } },
      ]);
      const error = await requestJson("https://x.test/a", { fetch: fetchFn }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationAuthError);
      expect((error as Error).message).toBe("missing scope lists:write");
    }
  });

  it("retries a CDN challenge's 403 (cf-mitigated) instead of taking it for a refused key", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 403, headers: { "cf-mitigated": "challenge" } }, { status: 200, body: {} }]);
    const { sleep } = recordingSleep();
    expect((await requestJson("https://x.test/a", { fetch: fetchFn, sleep })).status).toBe(200);
    expect(calls).toHaveLength(2);
  });

  it("returns 401 and 403 as answers when asked to (a key check)", async () => {
    const { fetchFn } = scriptedFetch([{ status: 403, body: { errors: [{ code: "permission_denied" }] } }]);
    const answer = await requestJson("https://x.test/a", { fetch: fetchFn, throwOnAuthError: false });
    expect(answer.status).toBe(403);
  });

  it("waits what a 429's Retry-After says, then gets through", async () => {
    const { fetchFn, calls } = scriptedFetch([
      { status: 429, headers: { "Retry-After": "3" } },
      { status: 429, headers: { "Retry-After": "1" } },
      { status: 200, body: { ok: true } },
    ]);
    const { waits, sleep } = recordingSleep();
    const answer = await requestJson("https://x.test/a", { fetch: fetchFn, sleep });
    expect(answer.status).toBe(200);
    expect(calls).toHaveLength(3);
    expect(waits).toEqual([3000, 1000]);
  });

  it("throws DestinationRetryableError carrying a Retry-After too long to wait here", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 429, headers: { "Retry-After": "600" } }]);
    const { waits, sleep } = recordingSleep();
    const error = await requestJson("https://x.test/a", { fetch: fetchFn, sleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRetryableError);
    expect((error as DestinationRetryableError).retryAfterMs).toBe(600_000);
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("gives up after rateLimitRetries 429s", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 429, headers: { "Retry-After": "1" } }]);
    const { sleep } = recordingSleep();
    const error = await requestJson("https://x.test/a", { fetch: fetchFn, sleep, rateLimitRetries: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRetryableError);
    expect((error as DestinationRetryableError).retryAfterMs).toBe(1000);
    expect(calls).toHaveLength(4);
  });

  it("retries 5xx and network errors with growing, jittered backoff", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 503 }, "network-error", { status: 500 }, { status: 200, body: {} }]);
    const { waits, sleep } = recordingSleep();
    const answer = await requestJson("https://x.test/a", { fetch: fetchFn, sleep, random: () => 1, baseBackoffMs: 100 });
    expect(answer.status).toBe(200);
    expect(calls).toHaveLength(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it("throws DestinationRetryableError when 5xx outlast the retries", async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 502, body: { detail: "bad gateway" } }]);
    const { sleep } = recordingSleep();
    const error = await requestJson("https://x.test/a", { fetch: fetchFn, sleep, retries: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRetryableError);
    expect((error as Error).message).toContain("502: bad gateway");
    expect(calls).toHaveLength(3);
  });

  it("times out a hanging request and retries it", async () => {
    const { fetchFn, calls } = scriptedFetch(["hang", { status: 200, body: { ok: 1 } }]);
    const { sleep } = recordingSleep();
    const answer = await requestJson("https://x.test/a", { fetch: fetchFn, sleep, timeoutMs: 20 });
    expect(answer.status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(calls[0].init.signal?.aborted).toBe(true);
  });

  it("throws DestinationRetryableError naming the timeout when every try hangs", async () => {
    const { fetchFn } = scriptedFetch(["hang"]);
    const { sleep } = recordingSleep();
    const error = await requestJson("https://x.test/a?filter=secret", { fetch: fetchFn, sleep, timeoutMs: 10, retries: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DestinationRetryableError);
    expect((error as Error).message).toContain("no answer within 10 ms");
    expect((error as Error).message).not.toContain("secret");
  });

  it("asks the limiter before every try", async () => {
    let acquired = 0;
    const limiter = { acquire: async () => void (acquired += 1) };
    const { fetchFn } = scriptedFetch([{ status: 500 }, { status: 200, body: {} }]);
    const { sleep } = recordingSleep();
    await requestJson("https://x.test/a", { fetch: fetchFn, sleep, limiter });
    expect(acquired).toBe(2);
  });

  it("stops at once when the caller aborts", async () => {
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    const { fetchFn, calls } = scriptedFetch([{ status: 200 }]);
    await expect(requestJson("https://x.test/a", { fetch: fetchFn, signal: controller.signal })).rejects.toThrow("shutting down");
    expect(calls).toHaveLength(0);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("12")).toBe(12_000);
    expect(parseRetryAfter("0.5")).toBe(500);
    const now = Date.parse("2026-12-06T18:00:00Z");
    expect(parseRetryAfter("Sun, 06 Dec 2026 18:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Sun, 06 Dec 2026 17:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });
});

describe("backoffMs", () => {
  it("doubles its ceiling per attempt up to the maximum", () => {
    expect([0, 1, 2, 10].map((attempt) => backoffMs(attempt, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 30_000]);
    expect(backoffMs(3, 500, 30_000, () => 0)).toBe(0);
  });
});

describe("errorDetail", () => {
  it("reads Klaviyo's and Mailchimp's error documents", () => {
    expect(errorDetail({ errors: [{ title: "Not found", detail: "List X does not exist" }] })).toBe("List X does not exist");
    expect(errorDetail({ type: "about:blank", title: "API Key Invalid", status: 401, detail: "Your API key may be invalid" })).toBe(
      "Your API key may be invalid",
    );
    expect(errorDetail("nope")).toBeNull();
  });
});

describe("slidingWindowLimiter", () => {
  it("lets a burst through, then holds each window's limit", async () => {
    let clock = 0;
    const granted: number[] = [];
    const limiter = slidingWindowLimiter(
      [
        { limit: 3, windowMs: 1000 },
        { limit: 5, windowMs: 60_000 },
      ],
      { marginMs: 0, now: () => clock, sleep: async (ms) => void (clock += ms) },
    );
    for (let i = 0; i < 7; i += 1) {
      await limiter.acquire();
      granted.push(clock);
    }
    expect(granted).toEqual([0, 0, 0, 1000, 1000, 60_000, 60_000]);
  });

  it("serves concurrent callers in order", async () => {
    let clock = 0;
    const order: number[] = [];
    const limiter = slidingWindowLimiter([{ limit: 1, windowMs: 100 }], {
      marginMs: 0,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
    await Promise.all([0, 1, 2, 3].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(clock).toBe(300);
  });
});
