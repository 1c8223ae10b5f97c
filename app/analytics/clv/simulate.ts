// Seeded simulation of customers from the BG/NBD and Pareto/NBD generative stories, for
// parameter-recovery tests and benchmarks. Same seed, same customers (app/analytics/random.ts).
import { type BgNbdParams } from "./bgnbd";
import { type ParetoNbdParams } from "./pareto-nbd";
import { Random } from "../random";

export interface SimulatedCustomer {
  frequency: number;
  recency: number;
  T: number;
}

export interface SimulationOptions {
  customers: number;
  seed: number;
  /** Each customer's observation length T (first purchase to end), drawn per customer. */
  age: (random: () => number) => number;
  /**
   * When set, event times are floored to multiples of this step and events in the same
   * step merge, as purchases on one calendar day do (e.g. 1/7 for days in a weekly unit).
   * T should then be a multiple of the step too.
   */
  grid?: number;
}

/** Summarises purchase times after the first (at 0) over (0, T], merging same-grid-step events. */
function summarise(times: number[], T: number, grid: number | undefined): SimulatedCustomer {
  if (!grid) {
    const last = times.length > 0 ? times[times.length - 1] : 0;
    return { frequency: times.length, recency: last, T };
  }
  let frequency = 0;
  let lastStep = 0;
  for (const time of times) {
    const step = Math.floor(time / grid);
    if (step > lastStep) {
      frequency++;
      lastStep = step;
    }
  }
  // Rounded so that values sit exactly on the grid as a day-based summary would put them.
  const onGrid = (steps: number) => Number((steps * grid).toPrecision(12));
  return { frequency, recency: onGrid(lastStep), T: onGrid(Math.round(T / grid)) };
}

/**
 * One customer per draw: T first, then `purchaseTimes` draws the rest of that customer from
 * the same stream, so the draw order (and so every seed's customers) stays as it was.
 */
function simulate(options: SimulationOptions, purchaseTimes: (random: Random, T: number) => number[]): SimulatedCustomer[] {
  const random = new Random(options.seed);
  const out: SimulatedCustomer[] = [];
  for (let i = 0; i < options.customers; i++) {
    const T = options.age(() => random.next());
    out.push(summarise(purchaseTimes(random, T), T, options.grid));
  }
  return out;
}

/** Customers from BG/NBD: Poisson(λ) purchases, drop out after each with probability p. */
export function simulateBgNbd(params: BgNbdParams, options: SimulationOptions): SimulatedCustomer[] {
  return simulate(options, (random, T) => {
    const lambda = random.gamma(params.r, 1 / params.alpha);
    const p = random.beta(params.a, params.b);
    const times: number[] = [];
    let t = 0;
    for (;;) {
      t += random.exponential(lambda);
      if (t > T) break;
      times.push(t);
      if (random.next() < p) break;
    }
    return times;
  });
}

/** Customers from Pareto/NBD: Poisson(λ) purchases during an Exp(μ) lifetime. */
export function simulateParetoNbd(params: ParetoNbdParams, options: SimulationOptions): SimulatedCustomer[] {
  return simulate(options, (random, T) => {
    const lambda = random.gamma(params.r, 1 / params.alpha);
    const mu = random.gamma(params.s, 1 / params.beta);
    const end = Math.min(T, random.exponential(mu));
    const times: number[] = [];
    let t = 0;
    for (;;) {
      t += random.exponential(lambda);
      if (t > end) break;
      times.push(t);
    }
    return times;
  });
}
