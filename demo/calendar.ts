import { type Random } from "~/analytics/random";
import { type Channel, DAY, HOUR, YEAR } from "./store-model";

// When demand happens in the demo store: the season (Black Friday / Cyber Monday,
// December, a slow January), the time of day by channel, and exact money splits.

/** Shop-local calendar fields for seasonality (a fixed UTC-5 is close enough for that). */
export function localDate(at: number): { year: number; month: number; day: number; hour: number } {
  const d = new Date(at - 5 * HOUR);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate(), hour: d.getUTCHours() };
}

/** Black Friday (the day after the fourth Thursday of November), as [month day]. */
export function blackFridayDay(year: number): number {
  const novFirst = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - novFirst + 7) % 7);
  return firstThursday + 21 + 1;
}

/** Black Friday through Cyber Monday, shop-local. */
export function isBfcm(at: number): boolean {
  const { year, month, day } = localDate(at);
  if (month !== 10 && month !== 11) return false;
  const bf = blackFridayDay(year);
  const dayOfSeason = month === 10 ? day : day + 30;
  return dayOfSeason >= bf && dayOfSeason <= bf + 3;
}

const MONTH_FACTOR = [0.8, 0.78, 0.92, 1.0, 1.05, 0.95, 0.9, 0.95, 0.97, 1.05, 1.3, 1.55];
const SEASON_MAX = 1.3 * 3.2;

/** Relative demand at a moment: month, the BFCM weekend, pre-Christmas, the lull after. */
export function seasonality(at: number): number {
  const { month, day } = localDate(at);
  let factor = MONTH_FACTOR[month];
  if (isBfcm(at)) factor *= 3.2;
  else if (month === 11 && day <= 20) factor *= 1.15;
  else if (month === 11 && day >= 24) factor *= 0.7;
  return factor;
}

// Relative orders by local hour (evening peak online, daytime in the shop).
const ONLINE_HOURS = [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 10, 11, 11, 10, 9, 9, 10, 12, 14, 15, 13, 9, 5];
const SHOP_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 8, 10, 10, 9, 9, 9, 10, 9, 6, 0, 0, 0, 0];
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** Moves `at` to a plausible time of day on the same local day. */
export function atTimeOfDay(rng: Random, at: number, channel: Channel): number {
  const { hour } = localDate(at);
  const weights = channel === "pos" ? SHOP_HOURS : ONLINE_HOURS;
  const newHour = rng.weighted(HOURS, (h) => weights[h]);
  const startOfHour = at - (at % HOUR);
  return startOfHour + (newHour - hour) * HOUR + rng.int(0, HOUR / 1000 - 1) * 1000;
}

// ---------------------------------------------------------------- helpers

/** Splits `total` across `weights` proportionally, exactly (largest remainder). */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const raw = weights.map((w) => (total * w) / sum);
  const floors = raw.map(Math.floor);
  let rest = total - floors.reduce((a, b) => a + b, 0);
  const order = raw.map((value, index) => ({ index, frac: value - Math.floor(value) })).sort((a, b) => b.frac - a.frac || a.index - b.index);
  for (const { index } of order) {
    if (rest <= 0) break;
    floors[index] += 1;
    rest -= 1;
  }
  return floors;
}

export function taxOf(amountMinor: number, rate: number): number {
  return Math.round(amountMinor * rate);
}

/** Samples a time in [from, to] with density proportional to demand x growth. */
export function sampleDemandTime(rng: Random, from: number, to: number, growthPerYear: number): number {
  const span = to - from;
  const growthMax = Math.exp(growthPerYear * (span / YEAR));
  for (;;) {
    const at = from + rng.next() * span;
    const weight = seasonality(at) * Math.exp(growthPerYear * ((at - from) / YEAR));
    if (rng.next() * SEASON_MAX * growthMax < weight) return at;
  }
}

/** Next purchase after `from` for a customer buying at `ratePerYear`, modulated by season (thinning). */
export function nextPurchase(rng: Random, from: number, ratePerYear: number, until: number): number | null {
  let at = from;
  const bound = (ratePerYear * SEASON_MAX) / YEAR;
  for (;;) {
    at += rng.exponential(bound);
    if (at > until) return null;
    // A few days at least between orders: same-day repeats are rare in this business.
    if (at - from < 2 * DAY) continue;
    if (rng.next() * SEASON_MAX < seasonality(at)) return at;
  }
}
