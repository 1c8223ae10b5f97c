import { type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";

// Child processes of the local services (scripts/local-services.ts): ports, PATH lookup,
// waiting for a server's "ready" line, and stopping every child when this process exits.

export const PROJECT_ROOT = path.resolve(import.meta.dirname, "..");

export type Log = (line: string) => void;

export interface LocalService {
  url: string;
  /** True when this process started the service (and stop() will stop it). */
  started: boolean;
  /** One line for the operator: what is used and where. */
  description: string;
  /** The server's process id when started here (PostgreSQL: the postmaster). */
  pid?: number;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves an executable on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort: if this process exits without stopping its services, don't leave them behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    }
  });
}

export function track(child: ChildProcess): void {
  installExitHook();
  running.add(child);
  child.once("exit", () => running.delete(child));
}

/** Sends `signal`, then escalates to SIGKILL if the process is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves when `predicate` sees a line of the child's output; rejects if it exits first or time runs out. */
export function waitForOutput(
  child: ChildProcess,
  predicate: (text: string) => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = "";
    const onData = (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-4_000);
      if (predicate(tail)) finish();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(new Error(`${what} exited before it was ready (code ${code}, signal ${signal}):\n${tail.trim()}`));
    const timer = setTimeout(() => finish(new Error(`${what} was not ready after ${timeoutMs} ms:\n${tail.trim()}`)), timeoutMs);
    function finish(error?: Error) {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** The URL with any password replaced, for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
