// Time units the count models can work in. Model parameters (alpha, beta) scale with
// the unit, so every output says which unit it used.

export type TimeUnit = "day" | "week" | "month";

export const TIME_UNITS: readonly TimeUnit[] = ["day", "week", "month"];

/** Length of one unit in days; a month is the average Gregorian month. */
export const unitDays: Readonly<Record<TimeUnit, number>> = { day: 1, week: 7, month: 365.25 / 12 };

export function isTimeUnit(value: string): value is TimeUnit {
  return (TIME_UNITS as readonly string[]).includes(value);
}

/** A span of days expressed in `unit`. */
export function daysToUnits(days: number, unit: TimeUnit): number {
  return days / unitDays[unit];
}

/** A span in `unit` expressed in days (not rounded). */
export function unitsToDays(units: number, unit: TimeUnit): number {
  return units * unitDays[unit];
}
