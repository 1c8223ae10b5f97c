// Formatting for people: money through app/analytics/money.ts (exact, per currency
// exponent), shares as percentages, day indices and ISO dates as short dates. Null is shown
// as an em dash everywhere, so a missing figure never reads as zero.
import { formatMoney, minorToMajor } from "~/analytics/money";

export const MISSING = "—";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 2 });

/** Whole minor units of `currency` -> "$1,234.56". Averages are rounded to a whole minor unit first. */
export function money(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return MISSING;
  return formatMoney(Math.round(minor), currency);
}

/** Short money for chart axes: 123456 USD minor units -> "$1.2K". */
export function compactMoney(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return MISSING;
  return new Intl.NumberFormat("en-US", { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }).format(
    minorToMajor(Math.round(minor), currency),
  );
}

/** A share 0..1 -> "28.4%". */
export function percent(share: number | null | undefined, digits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return MISSING;
  return `${(share * 100).toFixed(digits)}%`;
}

export function count(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return integer.format(value);
}

/** A ratio such as orders per customer: "1.42". */
export function ratio(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return decimal.format(value);
}

export function days(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const rounded = Math.round(value * 10) / 10;
  return `${decimal.format(rounded)} ${rounded === 1 ? "day" : "days"}`;
}

const dateFormat = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });

/** "2026-11-23" (a calendar day) -> "Nov 23, 2026". */
export function isoDay(iso: string | null | undefined): string {
  if (!iso) return MISSING;
  const date = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? MISSING : dateFormat.format(date);
}

/** A database date (midnight UTC) as its ISO day ("2024-03-01"), null kept. */
export const isoOfDate = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : null);

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** The formatter of `timeZone`; UTC (named as such) for a zone the runtime does not know, so a bad setting never breaks a page. */
function dateTimeFormatIn(timeZone: string): Intl.DateTimeFormat {
  let format = dateTimeFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "numeric",
        minute: "2-digit",
        timeZone,
        timeZoneName: "short",
      });
    } catch {
      format = dateTimeFormatIn("UTC");
    }
    dateTimeFormats.set(timeZone, format);
  }
  return format;
}

/**
 * An instant (ISO timestamp) in the shop's time zone, the zone named: "Nov 23, 2026, 7:05 AM
 * EST". Days elsewhere (first order, cohorts) are the shop's calendar days, so a time shown
 * here falls on the day they show (issue 13).
 */
export function instant(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return MISSING;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? MISSING : dateTimeFormatIn(timeZone).format(date);
}

export type ChangeMeasure = "relative" | "points";

export interface Change {
  /** "+4.2%" or "+1.3 pts"; null when there is nothing to compare with. */
  text: string | null;
  direction: "up" | "down" | "flat";
  /** For screen readers: "up 4.2% from 1,200". */
  description: string | null;
}

/**
 * Change of a KPI against its previous value: relative (counts, money, days) or in
 * percentage points (rates, where a relative change of a percentage confuses people).
 */
export function change(value: number | null, previous: number | null, measure: ChangeMeasure, formatPrevious: (v: number) => string): Change {
  if (value === null || previous === null || !Number.isFinite(value) || !Number.isFinite(previous)) {
    return { text: null, direction: "flat", description: null };
  }
  const delta = value - previous;
  let text: string;
  let magnitude: number;
  if (measure === "points") {
    magnitude = Math.round(delta * 1000) / 10;
    text = `${magnitude > 0 ? "+" : magnitude < 0 ? "−" : "±"}${Math.abs(magnitude).toFixed(1)} pts`;
  } else {
    if (previous === 0) {
      if (value === 0) return { text: "±0%", direction: "flat", description: `unchanged from ${formatPrevious(previous)}` };
      return { text: "new", direction: value > 0 ? "up" : "down", description: `from ${formatPrevious(previous)}` };
    }
    magnitude = Math.round((delta / Math.abs(previous)) * 1000) / 10;
    text = `${magnitude > 0 ? "+" : magnitude < 0 ? "−" : "±"}${Math.abs(magnitude).toFixed(1)}%`;
  }
  const direction = magnitude > 0 ? "up" : magnitude < 0 ? "down" : "flat";
  const word = direction === "up" ? "up" : direction === "down" ? "down" : "unchanged";
  const amount = direction === "flat" ? "" : ` ${text.replace(/^[+−]/, "")}`;
  return { text, direction, description: `${word}${amount} from ${formatPrevious(previous)}` };
}

/** Display name of a customer: full name, else email, else "Customer #id". */
export function customerName(c: { id: string; firstName?: string | null; lastName?: string | null; email?: string | null }): string {
  const full = [c.firstName, c.lastName].filter((part) => part && part.trim()).join(" ").trim();
  if (full) return full;
  if (c.email) return c.email;
  return `Customer #${c.id}`;
}
