// The plain NBD (Ehrenberg 1959): Poisson(λ) purchases for ever, λ ~ Gamma(r, α). It is the
// model BG/NBD, modified BG/NBD and Pareto/NBD all become when nobody drops out (a -> 0,
// s -> 0 or β -> ∞): fitted beside them, its likelihood says when their drop-out part is not
// identifiable from the data (estimation.ts, "drop-out not identifiable").
import { ageScale, type PreparedRows, sumsPerDistinctT } from "./rows";
import { digamma, lgamma } from "./special";

export interface NbdParams {
  r: number;
  alpha: number;
}

export const NBD_NAMES = ["r", "alpha"] as const;

/**
 * Total NBD log-likelihood of (x, t_x, T) rows (a density in the x purchase times) and its
 * gradient in log r, log α. It reads a row only through x and T, so the rows are summed once
 * per distinct T (customers and purchases there) and each evaluation costs the distinct x and
 * T values, not the rows.
 */
export function nbdLogLikelihood(rows: PreparedRows): (theta: number[]) => { value: number; gradient: number[] } {
  const { times, xValues, xWeights } = rows;
  const { customersAt, purchasesAt } = sumsPerDistinctT(rows);
  return (theta) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
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
    for (let t = 0; t < times.length; t++) {
      const customers = customersAt[t];
      if (customers === 0) continue;
      const logAlphaTime = Math.log(alpha + times[t]);
      const rx = r * customers + purchasesAt[t];
      value -= rx * logAlphaTime;
      dR -= customers * logAlphaTime;
      dAlpha -= rx / (alpha + times[t]);
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
