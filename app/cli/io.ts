// What a CLI command needs from its process: somewhere to write. Commands take this
// instead of touching process.stdout/stderr so tests can run them in-process.

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A failure the user can act on: printed without a stack trace, exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Exit code for wrong usage (unknown option, missing argument). */
export const USAGE_EXIT_CODE = 2;

/** An io that collects what was written (tests). */
export function memoryIo(): CliIo & { out(): string; err(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
    out: () => stdout.join(""),
    err: () => stderr.join(""),
  };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** 1234567 -> "1,234,567" */
export function count(value: number): string {
  return value.toLocaleString("en-US");
}

/** 1 -> "1 customer", 2500 -> "2,500 customers". */
export function counted(value: number, singular: string, plural = `${singular}s`): string {
  return `${count(value)} ${value === 1 ? singular : plural}`;
}
