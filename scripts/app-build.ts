import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { PROJECT_ROOT, type Log } from "./local-services";

// The production build and the web server process, shared by the demo and the benchmarks:
// build with `remix vite:build` when build/ is missing or older than its sources, and run
// it with remix-serve (what `npm start` runs) as a child process.

export const SERVER_BUILD = path.join(PROJECT_ROOT, "build", "server", "index.js");

function newestMtime(dir: string, skip: (file: string) => boolean): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (skip(file)) continue;
    newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

/** Why the build must be redone, or null when build/ is newer than every source. */
export function buildStaleReason(): string | null {
  if (!existsSync(SERVER_BUILD)) return "no build yet";
  const builtAt = statSync(SERVER_BUILD).mtimeMs;
  const isTest = (file: string) => /\.test\.tsx?$/.test(file);
  const sources = Math.max(
    newestMtime(path.join(PROJECT_ROOT, "app"), isTest),
    newestMtime(path.join(PROJECT_ROOT, "public"), () => false),
    ...["vite.config.ts", "package-lock.json", "tsconfig.json"].map((name) => {
      const file = path.join(PROJECT_ROOT, name);
      return existsSync(file) ? statSync(file).mtimeMs : 0;
    }),
  );
  return sources > builtAt ? "sources changed since the last build" : null;
}

/** Last lines of a log file, indented, for error messages. */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `  | ${l}`).join("\n");
  } catch {
    return "  (no log)";
  }
}

/** Builds the app when needed; the build's output goes to `logFile`. Throws with the log's tail on failure. */
export async function ensureAppBuild(options: { log?: Log; logFile: string }): Promise<{ built: boolean }> {
  const reason = buildStaleReason();
  if (!reason) return { built: false };
  options.log?.(`building the app (${reason}); log in ${path.relative(PROJECT_ROOT, options.logFile)}`);
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = openSync(options.logFile, "w");
  const remix = path.join(PROJECT_ROOT, "node_modules", "@remix-run", "dev", "dist", "cli.js");
  const child = spawn(process.execPath, [remix, "vite:build"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", out, out],
    env: { ...process.env, NODE_ENV: "production" },
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the app build failed (exit ${code}):\n${logTail(options.logFile)}`);
  return { built: true };
}

/**
 * remix-serve under NODE_ENV=development announces each build to a `remix dev` server at
 * REMIX_DEV_ORIGIN and exits when there is none. This answers that ping; returns its origin.
 */
export async function startDevReadySink(): Promise<{ origin: string; close: () => void }> {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { origin: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export interface ServerProcess {
  process: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * The production server command, as `npm start` runs it (package.json "start"):
 * `remix-serve <build>` or `node <server file> ...`, as node arguments.
 */
export function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  let tokens = (pkg.scripts?.start ?? "remix-serve ./build/server/index.js").trim().split(/\s+/);
  // The Node 22 wrapper is not needed here: this process already runs on Node 22.
  if (tokens[0] === "bash" && tokens[1]?.endsWith("with-node22.sh")) tokens = tokens.slice(2);
  const [command, ...rest] = tokens;
  if (command === "remix-serve") return [path.join(PROJECT_ROOT, "node_modules", "@remix-run", "serve", "dist", "cli.js"), ...rest];
  if (command === "tsx") return [path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), ...rest];
  if (command === "node") return rest;
  throw new Error(`package.json "start" is "${pkg.scripts?.start}": expected remix-serve, node or tsx with its arguments`);
}

/**
 * Starts the production server (`npm start`'s command) on 127.0.0.1:`port` in its own
 * process group (stdout/stderr to `stdio`), and resolves once it answers HTTP.
 */
export async function startAppServer(options: {
  port: number;
  env: NodeJS.ProcessEnv;
  stdio: "ignore" | number;
  nodeArgs?: string[];
}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...options.env, PORT: String(options.port), HOST: "127.0.0.1" };
  let sink: { origin: string; close: () => void } | undefined;
  if (env.NODE_ENV === "development" && !env.REMIX_DEV_ORIGIN) {
    sink = await startDevReadySink();
    env.REMIX_DEV_ORIGIN = sink.origin;
  }
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...startCommand()], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", options.stdio, options.stdio],
    detached: true,
  });
  const url = `http://127.0.0.1:${options.port}`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    sink?.close();
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited during start-up (code ${child.exitCode})`);
    try {
      await fetch(`${url}/webhooks/orders/create`, { method: "GET" });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`the server did not answer on ${url} within 60 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { process: child, url, stop };
}
