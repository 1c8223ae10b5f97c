// What a CLI command needs from its process: somewhere to write. Commands take this
// instead of touching process.stdout/stderr so tests can run them in-process.
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";

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

/**
 * Writes the chunks as they come (with backpressure) to `<path>.partial`, renamed to `path`
 * only once flushed, so a failed run never leaves a truncated file behind. An error thrown
 * by the chunks' source removes the partial file and is rethrown.
 */
export async function writeFileAtomically(path: string, chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  const failed = once(out, "error").then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined); // raced below; never an unhandled rejection
  try {
    for await (const chunk of chunks) {
      if (!out.write(chunk)) await Promise.race([once(out, "drain"), failed]);
    }
    out.end();
    await Promise.race([once(out, "finish"), failed]);
  } catch (error) {
    out.destroy();
    // The file is opened asynchronously: removed before the open lands, it would come back.
    if (!out.closed) await once(out, "close");
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, path);
}
