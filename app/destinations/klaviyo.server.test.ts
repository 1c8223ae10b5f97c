import { describe, expect, it } from "vitest";
import { type DestinationProfile } from "./adapter";
import { importJobBody, isE164, measuredJobMs, profileResource, splitIntoJobs } from "./klaviyo.server";

const profile: DestinationProfile = {
  customerId: "7",
  email: "ada@example.com",
  firstName: "Ada",
  lastName: null,
  phone: "+447700900123",
  emailConsentState: "SUBSCRIBED",
  properties: {
    tenure_rfm_segment: "Champions",
    tenure_behaviours: [],
    tenure_predicted_value_12m: null,
    tenure_historic_value: 12.5,
    tenure_chance_of_ordering_90d: 0.3,
    tenure_p_alive: null,
    tenure_next_order_date: null,
  },
};

describe("profileResource", () => {
  it("writes identifiers and figures, and unsets the figures Tenure lacks", () => {
    expect(profileResource(profile)).toEqual({
      type: "profile",
      attributes: {
        email: "ada@example.com",
        external_id: "7",
        first_name: "Ada",
        phone_number: "+447700900123",
        properties: { tenure_rfm_segment: "Champions", tenure_behaviours: [], tenure_historic_value: 12.5, tenure_chance_of_ordering_90d: 0.3 },
      },
      meta: { patch_properties: { unset: ["tenure_predicted_value_12m", "tenure_p_alive", "tenure_next_order_date"] } },
    });
  });

  it("leaves out a phone that is not E.164", () => {
    expect((profileResource({ ...profile, phone: "07700 900123" }).attributes as Record<string, unknown>).phone_number).toBeUndefined();
  });
});

describe("isE164", () => {
  it("takes + and 7 to 15 digits, no leading zero", () => {
    expect(["+14155550101", "+447700900123"].every(isE164)).toBe(true);
    expect(["14155550101", "+04155550101", "+1 415 555 0101", "+123"].some(isE164)).toBe(false);
  });
});

describe("splitIntoJobs", () => {
  const resource = (n: number, char = "x") => JSON.stringify({ type: "profile", attributes: { email: `${char.repeat(n)}@e.com` } });
  const text = (body: Uint8Array) => Buffer.from(body).toString("utf8");

  it("cuts at the profile count, each job's body the document importJobBody writes", () => {
    const jobs = splitIntoJobs([1, 2, 3, 4, 5], (n) => resource(n), ["AbC123"], 2, 1_000_000);
    expect(jobs.map((job) => job.items)).toEqual([[1, 2], [3, 4], [5]]);
    expect(jobs.map((job) => text(job.body))).toEqual([[1, 2], [3, 4], [5]].map((items) => importJobBody(items.map((n) => resource(n)), ["AbC123"])));
  });

  it("cuts at the byte size, envelope included, keeping the order", () => {
    const envelope = Buffer.byteLength(importJobBody([], []));
    const size = Buffer.byteLength(resource(50));
    const jobs = splitIntoJobs([1, 2, 3, 4, 5], () => resource(50), [], 10_000, envelope + 2 * size + 1);
    expect(jobs.map((job) => job.items)).toEqual([[1, 2], [3, 4], [5]]);
    expect(jobs.map((job) => job.body.length)).toEqual([envelope + 2 * size + 1, envelope + 2 * size + 1, envelope + size]);
  });

  it("measures bytes, not characters: multi-byte profiles fill a job exactly to its limit", () => {
    // 'é' is 2 bytes, '😀' 4 (two UTF-16 units): a job takes as many as its bytes allow.
    const chars = ["é", "😀", "x"];
    const profiles = Array.from({ length: 300 }, (_, i) => resource(10 + (i % 13), chars[i % 3]));
    const maxBytes = 1_000;
    const jobs = splitIntoJobs(profiles, (profile) => profile, ["AbC123"], 10_000, maxBytes);
    expect(jobs.flatMap((job) => job.items)).toEqual(profiles);
    for (const [index, job] of jobs.entries()) {
      expect(text(job.body)).toBe(importJobBody(job.items, ["AbC123"]));
      expect(job.body.length).toBeLessThanOrEqual(maxBytes);
      // Cut only where the next profile would not have fitted.
      const next = jobs[index + 1]?.items[0];
      if (next !== undefined) expect(job.body.length + 1 + Buffer.byteLength(next)).toBeGreaterThan(maxBytes);
    }
  });

  it("refuses a profile larger than a whole job", () => {
    expect(() => splitIntoJobs([1], () => resource(500), [], 10, 200)).toThrow(/more than a Klaviyo import job takes/);
  });
});

describe("importJobBody", () => {
  it("assembles the same document JSON.stringify writes, from profiles serialised once", () => {
    const profiles = [profileResource(profile), profileResource({ ...profile, customerId: "8", email: "zoë@example.com" })];
    const text = importJobBody(profiles.map((p) => JSON.stringify(p)), ["AbC123"]);
    expect(text).toBe(
      JSON.stringify({
        data: { type: "profile-bulk-import-job", attributes: { profiles: { data: profiles } }, relationships: { lists: { data: [{ type: "list", id: "AbC123" }] } } },
      }),
    );
    expect(importJobBody([], [])).toBe(JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data: [] } } } }));
  });
});

describe("measuredJobMs (the wait before a later job's first status read)", () => {
  it("takes sub-second times as they are", () => {
    expect(measuredJobMs("2026-12-07T10:00:00.120Z", "2026-12-07T10:00:00.230Z", 500)).toBe(110);
    expect(measuredJobMs("2026-12-07T10:00:00.250000+00:00", "2026-12-07T10:00:03.000000+00:00", 500)).toBe(2_750);
  });

  it("takes no less than the floor from whole-second times, which cannot tell 50 ms from 900", () => {
    expect(measuredJobMs("2022-11-08T00:00:00+00:00", "2022-11-08T00:00:00+00:00", 500)).toBe(500);
    expect(measuredJobMs("2022-11-08T00:00:00.000000+00:00", "2022-11-08T00:00:01.000000+00:00", 500)).toBe(1_000);
  });

  it("says nothing without both times", () => {
    expect(measuredJobMs(null, "2022-11-08T00:00:00+00:00", 500)).toBeNull();
    expect(measuredJobMs("2022-11-08T00:00:00+00:00", undefined, 500)).toBeNull();
  });
});
