import { rowProblem } from "./rows";

/** Throws a RangeError naming the first parameter that is not a finite positive number. */
export function assertPositiveParameters<P extends object>(params: P, names: readonly (keyof P & string)[]): void {
  for (const name of names) {
    const value = params[name] as unknown as number;
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`parameter ${name} = ${value} must be a positive number`);
  }
}

/** Throws a RangeError when (x, t_x, T) is not a valid customer history. */
export function assertValidRow(x: number, tx: number, T: number): void {
  const problem = rowProblem(x, tx, T);
  if (problem) throw new RangeError(problem);
}
