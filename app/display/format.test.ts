import { describe, expect, it } from "vitest";
import { dayIndexInZone, dayToIso } from "~/analytics/dates";
import { instant, isoDay } from "./format";

describe("instant: times in the shop's time zone, the zone named (issue 13)", () => {
  // An order placed at 03:01 UTC on Mar 30 is a Mar 29 order for a shop in New York: the
  // customer page's "First order Mar 29" and its order table must say the same day.
  const placed = "2026-03-30T03:01:00Z";

  it("shows the shop's local time and names the zone", () => {
    expect(instant(placed, "America/New_York")).toBe("Mar 29, 2026, 11:01 PM EDT");
    expect(instant(placed, "Asia/Tokyo")).toBe("Mar 30, 2026, 12:01 PM GMT+9");
    expect(instant(placed, "UTC")).toBe("Mar 30, 2026, 3:01 AM UTC");
  });

  it("agrees with the shop's calendar day used for first and last orders", () => {
    for (const zone of ["America/New_York", "Asia/Tokyo", "Pacific/Auckland", "UTC"]) {
      const day = isoDay(dayToIso(dayIndexInZone(new Date(placed), zone)));
      expect(instant(placed, zone).startsWith(day.replace(/, \d{4}$/, "")), zone).toBe(true);
    }
  });

  it("falls back to UTC, named, for a zone the runtime does not know, and to a dash without a time", () => {
    expect(instant(placed, "Mars/Olympus_Mons")).toBe("Mar 30, 2026, 3:01 AM UTC");
    expect(instant(null, "UTC")).toBe("—");
    expect(instant("not a time", "UTC")).toBe("—");
  });
});
