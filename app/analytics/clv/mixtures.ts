// The two integrals behind every Gauss hypergeometric function (2F1) the models need,
// each evaluated by a series arranged so its terms never overflow and rarely cancel, with
// quadrature as the fallback where the series would be slow or inaccurate.
//
// 1. BG/NBD-family expectations. A customer active at the start of a period, with
//    purchase rate λ ~ Gamma(r, α) and drop-out probability p ~ Beta(a, b) after each
//    purchase, makes on average
//        H(r, α, a, b; t) = E[(1 - e^{-λpt}) / p] = E_p[(1 - (α / (α + p t))^r) / p]
//    purchases in the next t. The textbook closed form is
//        (a+b-1)/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b; a+b-1; t/(α+t))],
//    which breaks at a = 1, at a + b <= 1 (the 2F1's c <= 0) and, for x = 10,000, has
//    terms growing like e^{x}. Euler's transformation turns it into
//        2F1(c - r, a - 1; c; z) · (1-z)^{a-1},  c = a + b - 1,
//    whose parameters stay small whatever x is, and factoring (a-1) and c out of the terms
//    removes both removable singularities (see expectedWhileActive).
//
// 2. Pareto/NBD. The likelihood, P(alive) and the purchase-timing probabilities all need
//        Φ(t) = ∫_t^∞ (A + τ)^{-eA} (B + τ)^{-eB} dτ      (eA + eB > 1),
//    the same quantity as the 2F1(r+s+x, s+1; r+s+x+1; ·) terms of Fader, Hardie & Lee's
//    note, with the usual trick of putting the larger of A, B in the argument so that it
//    lies in [0, 1). After Euler's transformation the series is 2F1(1, e'; e+e'; z), whose
//    terms are positive and shrink at least geometrically: no cancellation, no overflow,
//    and the derivatives for the optimiser come out of the same loop.
import { integrateInto } from "./quadrature";
import { expm1OverX, lbeta, lgamma, log1pExp } from "./special";

const SERIES_MAX_TERMS = 20_000;
const EPSILON = 1e-17;

/**
 * H(r, α, a, b; t): expected purchases in a period of length t by a customer active at its
 * start (see the file comment). Finite and >= 0 for all r, α, a, b > 0 and t >= 0.
 */
export function expectedWhileActive(r: number, alpha: number, a: number, b: number, t: number): number {
  if (!(t > 0)) return 0;
  const series = expectedWhileActiveSeries(r, alpha, a, b, t);
  if (series !== null) return series;
  return expectedWhileActiveQuadrature(r, alpha, a, b, t);
}

/**
 * Series form of H, or null when it would not be accurate (too many terms, or terms so
 * much larger than the result that rounding matters).
 *
 * With z = t/(α+t), w = 1 - z, L = ln w, c = a+b-1, A = c-r, B = a-1:
 *   c·2F1(A, B; c; z) = c + B·S,   S = Σ_{n≥1} (A)_n (a)_{n-1} / ((c+1)_{n-1} n!) z^n
 *   H = [c - w^B (c + B S)] / B = -c·L·(e^{BL} - 1)/(BL) - w^B S,
 * which is finite at a = 1 and for c in (-1, 0] (a + b <= 1).
 */
export function expectedWhileActiveSeries(r: number, alpha: number, a: number, b: number, t: number): number | null {
  const k = t / alpha;
  const z = k / (1 + k);
  // Terms shrink roughly like z^n: next to 1 the series cannot finish in SERIES_MAX_TERMS.
  if (1 - z < 40 / SERIES_MAX_TERMS) return null;
  const logW = -Math.log1p(k);
  const c = a + b - 1;
  const A = c - r;
  const B = a - 1;
  const lead = -c * logW * expm1OverX(B * logW);

  // Terms can grow (a > 2, z near 1) before they shrink: keep them below 1e250 by
  // moving powers of 1e250 into logScale.
  let logScale = 0;
  let term = A * z;
  let sum = term;
  let absoluteSum = Math.abs(term);
  let converged = term === 0;
  for (let n = 1; n < SERIES_MAX_TERMS && !converged; n++) {
    const ratio = ((A + n) * (B + n) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    absoluteSum += Math.abs(term);
    if (Math.abs(term) > 1e250) {
      term *= 1e-250;
      sum *= 1e-250;
      absoluteSum *= 1e-250;
      logScale += 250 * Math.LN10;
    }
    // The ratio tends to z; once it is below 1 and both it and z bound the rest, the tail
    // is at most |term|·q/(1-q).
    const bound = Math.max(Math.abs(ratio), z);
    if (bound < 1 && Math.abs(term) * bound <= EPSILON * (1 - bound) * Math.abs(sum)) converged = true;
    if (term === 0) converged = true;
  }
  if (!converged) return null;
  const logFactor = B * logW + logScale;
  const tailPart = Math.exp(logFactor) * sum;
  const result = lead - tailPart;
  const roundingError = 1e-15 * (Math.abs(lead) + Math.exp(logFactor) * absoluteSum);
  if (!Number.isFinite(result) || roundingError > 1e-9 * Math.abs(result)) return null;
  return Math.max(result, 0);
}

/**
 * H by quadrature over the logit of p (the trapezoidal rule on the real line converges
 * geometrically for this smooth, exponentially decaying integrand).
 */
export function expectedWhileActiveQuadrature(r: number, alpha: number, a: number, b: number, t: number): number {
  const k = t / alpha;
  const logNormaliser = lbeta(a, b);
  // In s = logit(p), p^a (1-p)^b has its mode at ln(a/b) and width sqrt(1/a + 1/b).
  const width = Math.sqrt(1 / a + 1 / b);
  const step = Math.min(0.2, width / 6);
  const mode = Math.log(a / b);
  const logDensity = (s: number) => -a * log1pExp(-s) - b * log1pExp(s) - logNormaliser;
  const g = (s: number) => {
    const p = 1 / (1 + Math.exp(-s));
    const kp = k * p;
    return kp < 1e-10 ? r * k * (1 - ((r + 1) * kp) / 2) : -Math.expm1(-r * Math.log1p(kp)) / p;
  };
  const peak = logDensity(mode);
  let total = 0;
  for (const direction of [1, -1]) {
    for (let i = direction === 1 ? 0 : 1; ; i++) {
      const s = mode + direction * i * step;
      const ld = logDensity(s);
      total += Math.exp(ld) * g(s);
      if (ld < peak - 50 || i > 2_000_000) break;
    }
  }
  return total * step;
}

/** log Φ and its derivatives, see logTailIntegral. */
export interface TailIntegral {
  log: number;
  /** ∂ log Φ / ∂eA */
  dExponentA: number;
  /** ∂ log Φ / ∂eB */
  dExponentB: number;
  /** ∂ log Φ / ∂A */
  dA: number;
  /** ∂ log Φ / ∂B */
  dB: number;
}

export function emptyTailIntegral(): TailIntegral {
  return { log: 0, dExponentA: 0, dExponentB: 0, dA: 0, dB: 0 };
}

/**
 * log Φ(t) with Φ(t) = ∫_t^∞ (A + τ)^{-eA} (B + τ)^{-eB} dτ, and its gradient in
 * (eA, eB, A, B). Needs eA + eB > 1, A + t > 0, B + t > 0. Writes into `out` (returned).
 */
export function logTailIntegral(A: number, eA: number, B: number, eB: number, t: number, out: TailIntegral = emptyTailIntegral()): TailIntegral {
  // κ is the larger of A and B, with exponent e'; λ the smaller, with exponent e.
  const swap = A < B;
  const kappa = swap ? B : A;
  const ePrime = swap ? eB : eA;
  const lambda = swap ? A : B;
  const e = swap ? eA : eB;
  if (!tailSeries(kappa, ePrime, lambda, e, t, out)) tailQuadrature(kappa, ePrime, lambda, e, t, out);
  // out holds derivatives in (e', e, κ, λ) as (dExponentA, dExponentB, dA, dB).
  if (swap) {
    const dePrime = out.dExponentA;
    const dKappa = out.dA;
    out.dExponentA = out.dExponentB;
    out.dExponentB = dePrime;
    out.dA = out.dB;
    out.dB = dKappa;
  }
  return out;
}

/**
 * Φ = (κ+t)^{-e'} (λ+t)^{1-e} / m · S,  m = e + e' - 1,  z = (κ-λ)/(κ+t),
 * S = 2F1(1, e'; m+1; z) = Σ_n T_n,  T_0 = 1,  T_{n+1} = T_n (e'+n) z / (m+1+n).
 * Every ratio is below z, so terms are positive and decreasing.
 */
function tailSeries(kappa: number, ePrime: number, lambda: number, e: number, t: number, out: TailIntegral): boolean {
  const kt = kappa + t;
  const lt = lambda + t;
  const z = (kappa - lambda) / kt;
  const m = e + ePrime - 1;
  const oneMinusZ = lt / kt;
  const stopBelow = EPSILON * oneMinusZ * oneMinusZ;
  if (z > 0.99) {
    // Π_{k<N} z (e'+k)/(m+1+k) bounds the N-th term: give up now if it is still too big.
    const N = SERIES_MAX_TERMS;
    const logLastTerm = N * Math.log(z) + lgamma(ePrime + N) - lgamma(ePrime) + lgamma(m + 1) - lgamma(m + 1 + N);
    if (logLastTerm > Math.log(stopBelow)) return false;
  }
  let term = 1;
  let sum = 1;
  let sumU = 0; // Σ T_n ∂log T_n/∂e'
  let sumV = 0; // Σ T_n Σ_{k<n} 1/(m+1+k)  (= -Σ T_n ∂log T_n/∂e)
  let sumZ = 0; // Σ n T_n / z
  let u = 0;
  let v = 0;
  let converged = z === 0;
  for (let n = 0; n < SERIES_MAX_TERMS && !converged; n++) {
    // One division per term (it is the loop's cost): with d = 1/((e'+n)(m+1+n)),
    // (e'+n)/(m+1+n) = (e'+n)² d, 1/(m+1+n) = (e'+n) d and 1/(e'+n) - 1/(m+1+n) = e d (m + 1 - e' = e).
    const a = ePrime + n;
    const d = 1 / (a * (m + 1 + n));
    const inverse = a * d;
    const base = a * inverse;
    sumZ += (n + 1) * term * base;
    u += e * d;
    v += inverse;
    term *= base * z;
    sum += term;
    sumU += term * u;
    sumV += term * v;
    if (term * (n + 2) <= stopBelow * sum) converged = true;
  }
  if (!converged) return false;
  const logKt = Math.log(kt);
  const logLt = Math.log(lt);
  const zDerivative = sumZ / sum;
  out.log = -ePrime * logKt + (1 - e) * logLt - Math.log(m) + Math.log(sum);
  out.dExponentA = -logKt - 1 / m + sumU / sum;
  out.dExponentB = -logLt - 1 / m - sumV / sum;
  out.dA = -ePrime / kt + (zDerivative * lt) / (kt * kt);
  out.dB = (1 - e) / lt - zDerivative / kt;
  return true;
}

/**
 * Φ and its derivatives by adaptive quadrature, substituting λ + τ = (λ+t)e^y (y >= 0),
 * where the integrand is log-concave and decays like e^{-m y}.
 */
function tailQuadrature(kappa: number, ePrime: number, lambda: number, e: number, t: number, out: TailIntegral): void {
  const lt = lambda + t;
  const gap = kappa - lambda;
  const logLt = Math.log(lt);
  // Mode: where (1-e) = e' (λ+t)e^y / (κ-λ+(λ+t)e^y); at y = 0 when e >= 1.
  let mode = 0;
  if (e < 1) {
    const share = (1 - e) / ePrime;
    if (share < 1) mode = Math.max(0, Math.log((share * gap) / ((1 - share) * lt)));
  }
  // f(τ) dτ = (κ-λ + (λ+t)e^y)^{-e'} ((λ+t)e^y)^{1-e} dy; its log relative to the mode is
  // computed directly (subtracting two logs near -1e5 would leave 1e-11 of noise).
  const kappaAtMode = gap + lt * Math.exp(mode);
  const peak = (1 - e) * (mode + logLt) - ePrime * Math.log(kappaAtMode);
  const relativeLog = (y: number) =>
    (1 - e) * (y - mode) - ePrime * Math.log1p((lt * Math.exp(mode) * Math.expm1(y - mode)) / kappaAtMode);
  // Past the mode the log-integrand falls at least as fast as its slope there, and
  // eventually like -m y; step out until it is 60 below the peak.
  let upper = mode + 1;
  while (relativeLog(upper) > -60) upper = mode + 2 * (upper - mode);
  const moments = (y: number, out: Float64Array): void => {
    const lambdaTau = lt * Math.exp(y);
    const kappaTau = gap + lambdaTau;
    const weight = Math.exp(relativeLog(y));
    out[0] = weight;
    out[1] = weight * Math.log(kappaTau);
    out[2] = weight * Math.log(lambdaTau);
    out[3] = weight / kappaTau;
    out[4] = weight / lambdaTau;
  };
  const breakpoints = mode > 0 ? [mode / 2, mode, mode + 1] : [0.5, 2];
  const [integral, logKappaMoment, logLambdaMoment, inverseKappaMoment, inverseLambdaMoment] = integrateInto(
    moments,
    0,
    upper,
    5,
    breakpoints,
  );
  out.log = peak + Math.log(integral);
  out.dExponentA = -logKappaMoment / integral;
  out.dExponentB = -logLambdaMoment / integral;
  out.dA = (-ePrime * inverseKappaMoment) / integral;
  out.dB = (-e * inverseLambdaMoment) / integral;
}
