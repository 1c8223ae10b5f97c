import { BodyBudget, LARGE_BODY_SHARE, SMALL_BODY_BYTES } from "./body-budget";

const MiB = 1024 * 1024;

describe("the webhook body budget", () => {
  it("reserves a declared length at once and gives it all back on release, once", () => {
    const budget = new BodyBudget(8 * MiB);
    const reservation = budget.open();
    expect(reservation.reserveUpTo(3 * MiB)).toBe(true);
    expect(budget.bytesInFlight).toBe(3 * MiB);
    reservation.release();
    reservation.release();
    expect(budget.bytesInFlight).toBe(0);
  });

  it("grows a reservation chunk by chunk and refuses the chunk that would pass the budget", () => {
    const budget = new BodyBudget(SMALL_BODY_BYTES);
    const reservation = budget.open();
    expect(reservation.reserveUpTo(SMALL_BODY_BYTES / 2)).toBe(true);
    expect(reservation.reserveUpTo(SMALL_BODY_BYTES / 4)).toBe(true); // never shrinks
    expect(reservation.bytes).toBe(SMALL_BODY_BYTES / 2);
    expect(reservation.reserveUpTo(SMALL_BODY_BYTES)).toBe(true);
    const other = budget.open();
    expect(other.reserveUpTo(1)).toBe(false);
    expect(budget.bytesInFlight).toBe(SMALL_BODY_BYTES);
    reservation.release();
    expect(other.reserveUpTo(1)).toBe(true);
  });

  it("lets large bodies hold only their share, so small ones still fit beside them", () => {
    const budget = new BodyBudget(8 * MiB);
    const largeShare = 8 * MiB * LARGE_BODY_SHARE;
    const large = [budget.open(), budget.open()];
    expect(large[0].reserveUpTo(largeShare - MiB)).toBe(true);
    expect(large[1].reserveUpTo(2 * MiB)).toBe(false);
    expect(budget.bytesInFlight).toBe(largeShare - MiB);
    const small = budget.open();
    expect(small.reserveUpTo(SMALL_BODY_BYTES)).toBe(true);
  });

  it("refuses a reservation after release, and a budget that is not a positive size", () => {
    const reservation = new BodyBudget(MiB).open();
    reservation.release();
    expect(() => reservation.reserveUpTo(1)).toThrow("released");
    expect(() => new BodyBudget(0)).toThrow("positive");
  });
});
