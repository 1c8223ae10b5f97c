// Special functions for the CLV likelihoods, written for log space: the models multiply
// gamma-function ratios and powers that overflow a double long before the answers do
// (x = 10,000 repeat purchases, T = 7,300 days), so everything here returns logarithms
// or is arranged so that no intermediate overflows or cancels.

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** Below this, lgamma and digamma shift x upward before using the asymptotic series. */
const ASYMPTOTIC_FROM = 10;

/**
 * log|Γ(x)| for real x (not a non-positive integer). Stirling's series for x >= 10 is
 * accurate to a few ulps; smaller x is shifted up with the recurrence, so results stay
 * accurate for the tiny shape parameters (0.01) the optimiser may try.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x <= 0 && Number.isInteger(x)) return Number.POSITIVE_INFINITY;
  if (x < 0.5) {
    // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  }
  let shift = 0;
  let product = 1;
  let y = x;
  while (y < ASYMPTOTIC_FROM) {
    product *= y;
    y += 1;
    shift++;
  }
  const inverse = 1 / y;
  const inverse2 = inverse * inverse;
  const series =
    inverse *
    (1 / 12 -
      inverse2 * (1 / 360 - inverse2 * (1 / 1260 - inverse2 * (1 / 1680 - inverse2 * (1 / 1188 - inverse2 * (691 / 360360 - inverse2 / 156))))));
  const stirling = (y - 0.5) * Math.log(y) - y + HALF_LOG_TWO_PI + series;
  return shift === 0 ? stirling : stirling - Math.log(product);
}

/** ψ(x) = d/dx log Γ(x), for x > 0 (and negative non-integers through reflection). */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.NaN;
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  let result = 0;
  let y = x;
  while (y < ASYMPTOTIC_FROM) {
    result -= 1 / y;
    y += 1;
  }
  const inverse2 = 1 / (y * y);
  return (
    result +
    Math.log(y) -
    0.5 / y -
    inverse2 * (1 / 12 - inverse2 * (1 / 120 - inverse2 * (1 / 252 - inverse2 * (1 / 240 - inverse2 * (1 / 132 - inverse2 * (691 / 32760 - inverse2 / 12))))))
  );
}

/** log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b). */
export function lbeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/** log(e^a + e^b) without overflow; -Infinity terms are allowed. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** log(e^a - e^b) for a >= b; -Infinity when they are equal. */
export function logSubExp(a: number, b: number): number {
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a + log1mExp(b - a);
}

/** log Σ e^v over the values, without overflow. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === Number.NEGATIVE_INFINITY || max === Number.POSITIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/** log(1 + e^x), exact for large |x|. */
export function log1pExp(x: number): number {
  if (x > 35) return x + Math.exp(-x);
  if (x < -35) return Math.exp(x);
  return Math.log1p(Math.exp(x));
}

/**
 * log(1 - e^x) for x <= 0 (Mächler's two-branch form: log(-expm1(x)) near 0,
 * log1p(-exp(x)) further away). Returns -Infinity at x = 0.
 */
export function log1mExp(x: number): number {
  if (x > 0) return Number.NaN;
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/** 1 / (1 + e^-x), without overflow. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** (e^u - 1) / u, continuous at u = 0. */
export function expm1OverX(u: number): number {
  if (Math.abs(u) < 1e-5) return 1 + u / 2 + (u * u) / 6;
  return Math.expm1(u) / u;
}

/** log((n choose k)) for real n >= k >= 0. */
export function lchoose(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  const maxIterations = 10_000 + 10 * Math.ceil(Math.sqrt(Math.max(a, b)));
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - lbeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return Math.min(1, (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a);
  return Math.max(0, 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, 1 - x)) / b);
}

/**
 * P(N >= n) for a negative binomial count N with shape r and P(N = k) ∝ (1-z)^r z^k,
 * i.e. the number of Poisson events in t when the rate is Gamma(r, α), z = t/(α+t).
 */
export function negativeBinomialTail(n: number, r: number, z: number): number {
  if (n <= 0) return 1;
  return regularizedBeta(z, n, r);
}

/** log P(N = n) for the same negative binomial (log(1-z) passed in for accuracy). */
export function logNegativeBinomialPmf(n: number, r: number, logZ: number, logOneMinusZ: number): number {
  const power = n === 0 ? 0 : n * logZ;
  return lgamma(r + n) - lgamma(r) - lgamma(n + 1) + r * logOneMinusZ + power;
}
