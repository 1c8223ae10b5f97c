// Calendar days as integers (days since 1970-01-01). The engine never needs a time of
// day, and integer days make sorting, differencing and grouping cheap and exact.
import { TZDate } from "@date-fns/tz";

export class DateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DateFormatError";
  }
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). No validation:
 * callers check ranges first. Howard Hinnant's days_from_civil, exact for any year.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Inverse of daysFromCivil. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_LENGTHS[month - 1];
}

/** True when year/month/day name a real calendar date (years 1..9999). */
export function isValidCivilDate(year: number, month: number, day: number): boolean {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

const ISO_DATE = /^(\d{4})-?(\d{2})-?(\d{2})$/;

/** "YYYY-MM-DD" or "YYYYMMDD" -> day index. Throws DateFormatError on anything else. */
export function dayIndex(isoDate: string): number {
  const match = ISO_DATE.exec(isoDate);
  // Reject mixed forms such as "2024-0101".
  if (!match || (isoDate.length !== 8 && isoDate.length !== 10)) {
    throw new DateFormatError(`"${isoDate}" is not a date (expected YYYY-MM-DD or YYYYMMDD)`);
  }
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (!isValidCivilDate(year, month, day)) throw new DateFormatError(`"${isoDate}" is not a calendar date`);
  return daysFromCivil(year, month, day);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** Day index -> "YYYY-MM-DD". */
export function dayToIso(day: number): string {
  if (!Number.isInteger(day)) throw new RangeError(`day index ${day} is not an integer`);
  const { year, month, day: dayOfMonth } = civilFromDays(day);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(dayOfMonth, 2)}`;
}

/** The calendar day an instant falls on in an IANA time zone (or a "+05:30" offset). */
export function dayIndexInZone(instant: Date, timeZone: string): number {
  if (Number.isNaN(instant.getTime())) throw new RangeError("invalid Date");
  const local = new TZDate(instant.getTime(), timeZone);
  if (Number.isNaN(local.getTime())) throw new RangeError(`unknown time zone "${timeZone}"`);
  return daysFromCivil(local.getFullYear(), local.getMonth() + 1, local.getDate());
}

/** Months since January 1970 of the month a day falls in (cohort keys). */
export function monthIndex(day: number): number {
  const { year, month } = civilFromDays(day);
  return (year - 1970) * 12 + (month - 1);
}

/** First day of a month index. */
export function monthStartDay(month: number): number {
  const year = 1970 + Math.floor(month / 12);
  return daysFromCivil(year, month - (year - 1970) * 12 + 1, 1);
}

/** Month index -> "YYYY-MM". */
export function monthToIso(month: number): string {
  return dayToIso(monthStartDay(month)).slice(0, 7);
}
