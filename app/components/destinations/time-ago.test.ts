import { timeAgo } from "./time-ago";

// "Last sent 5 min ago" on the segment page, from two instants of the loader's clock.

describe("timeAgo", () => {
  const now = "2026-12-06T12:00:00.000Z";
  it("says how long before now, in the unit a person would use", () => {
    expect(timeAgo("2026-12-06T11:59:30.000Z", now)).toBe("just now");
    expect(timeAgo("2026-12-06T11:55:00.000Z", now)).toBe("5 min ago");
    expect(timeAgo("2026-12-06T11:00:00.000Z", now)).toBe("1 hour ago");
    expect(timeAgo("2026-12-05T10:00:00.000Z", now)).toBe("26 hours ago");
    expect(timeAgo("2026-12-01T12:00:00.000Z", now)).toBe("5 days ago");
  });

  it("never says a time in the future, and names an unreadable one", () => {
    expect(timeAgo("2026-12-06T12:05:00.000Z", now)).toBe("just now");
    expect(timeAgo("not a date", now)).toBe("at an unknown time");
  });
});
