// The plain NBD (Ehrenberg 1959): Poisson(λ) purchases for ever, λ ~ Gamma(r, α). It is the
// model BG/NBD, modified BG/NBD and Pareto/NBD all become when nobody drops out (a -> 0,
// s -> 0 or β -> ∞): fitted beside them, its likelihood says when their drop-out part is not
// identifiable from the data (estimation.ts, "drop-out not identifiable").
import { ageScale, type PreparedRows } from "./rows";
import { digamma, lgamma } from "./special";

export interface NbdParams {
  r: number;
  alpha: number;
}

export const NBD_NAMES = ["r", "alpha"] as const;

/** Total NBD log-likelihood of (x, t_x, T) rows (a density in the x purchase times) and its gradient in log r, log α. */
export function nbdLogLikelihood(rows: PreparedRows): (theta: number[]) => { value: number; gradient: number[] } {
  const { count, x: xs, weight, TOf, times, xValues, xWeights } = rows;
  const logAlphaTime = new Float64Array(times.length);
  const inverseAlphaTime = new Float64Array(times.length);
  return (theta) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    for (let i = 0; i < times.length; i++) {
      logAlphaTime[i] = Math.log(alpha + times[i]);
      inverseAlphaTime[i] = 1 / (alpha + times[i]);
    }
    const logAlpha = Math.log(alpha);
    const lgR = lgamma(r);
    const psiR = digamma(r);
    let value = 0;
    let dR = 0;
    let dAlpha = 0;
    for (let k = 0; k < xValues.length; k++) {
      const w = xWeights[k];
      value += w * (lgamma(r + xValues[k]) - lgR + r * logAlpha);
      dR += w * (digamma(r + xValues[k]) - psiR + logAlpha);
      dAlpha += (w * r) / alpha;
    }
    for (let i = 0; i < count; i++) {
      const w = weight[i];
      const rx = r + xs[i];
      const t = TOf[i];
      value -= w * rx * logAlphaTime[t];
      dR -= w * logAlphaTime[t];
      dAlpha -= w * rx * inverseAlphaTime[t];
    }
    return { value, gradient: [r * dR, alpha * dAlpha] };
  };
}

export function nbdStarts(rows: PreparedRows): number[][] {
  const scale = ageScale(rows);
  return [
    [0.5, 0.5 * scale],
    [1, scale],
    [0.1, 0.1 * scale],
  ].map((start) => start.map(Math.log));
}
