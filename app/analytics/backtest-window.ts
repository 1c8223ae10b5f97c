// How much of a shop's order history the backtest holds out (app/analytics/clv/backtest.ts
// fits on the rest), or why the history is too short for one. Pure.

/** Longest holdout the backtest uses, and the least calibration history it needs. */
export const BACKTEST_MAX_HOLDOUT_DAYS = 180;
export const BACKTEST_MIN_HOLDOUT_DAYS = 28;
export const BACKTEST_MIN_CALIBRATION_DAYS = 90;

/**
 * The backtest's holdout: a third of the history, at most 180 days; null with the reason
 * when the history is too short for a calibration period and a holdout worth reading.
 */
export function backtestWindow(firstOrderDay: number | null, asOfDay: number): { holdoutDays: number; calibrationEndDay: number } | { note: string } {
  if (firstOrderDay === null || firstOrderDay > asOfDay) return { note: "no orders yet" };
  const historyDays = asOfDay - firstOrderDay + 1;
  const holdoutDays = Math.min(BACKTEST_MAX_HOLDOUT_DAYS, Math.floor(historyDays / 3));
  if (holdoutDays < BACKTEST_MIN_HOLDOUT_DAYS || historyDays - holdoutDays < BACKTEST_MIN_CALIBRATION_DAYS) {
    return {
      note:
        `${historyDays} days of order history; a backtest needs at least ${BACKTEST_MIN_CALIBRATION_DAYS} days to fit on ` +
        `and ${BACKTEST_MIN_HOLDOUT_DAYS} days to check against`,
    };
  }
  return { holdoutDays, calibrationEndDay: asOfDay - holdoutDays };
}
