import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { ensurePostgres } from "./embedded-postgres";
import { type LocalService, type Log, PROJECT_ROOT, findOnPath, freePort, redactUrl, stopChild, track } from "./service-processes";

export { DEFAULT_PG_DATA_DIR, type EmbeddedPostgresOptions, ensurePostgres, startEmbeddedPostgres } from "./embedded-postgres";
export { type LocalService, type Log, PROJECT_ROOT, findOnPath, freePort, redactUrl } from "./service-processes";

// PostgreSQL and Redis for the demo, the benchmarks and smoke tests when none are given:
// DATABASE_URL / REDIS_URL win; otherwise an embedded PostgreSQL (the `embedded-postgres`
// package's binaries) in a data folder, and `redis-server` on a private port. Both are
// started in their own process group, so a Ctrl-C reaches the orchestrating script first
// and it can stop the app before the databases it writes to; both are stopped on exit.

export class MissingRedisError extends Error {
  constructor() {
    super(
      "Redis is needed and none was given: set REDIS_URL, or install Redis so `redis-server` is on PATH\n" +
        "  Debian/Ubuntu: sudo apt-get install redis-server\n" +
        "  macOS:         brew install redis",
    );
    this.name = "MissingRedisError";
  }
}

// ---------------------------------------------------------------- Redis

export interface LocalRedisOptions {
  port?: number;
  /** The redis-server to run; default: findRedisServer(). */
  binary?: string;
  log?: Log;
}

/**
 * The `redis-server` executable: on PATH, else one that redis-memory-server built into
 * its cache (node_modules/.cache/redis-memory-server), else undefined.
 */
export function findRedisServer(): string | undefined {
  const onPath = findOnPath("redis-server");
  if (onPath) return onPath;
  const built = path.join(PROJECT_ROOT, "node_modules", ".cache", "redis-memory-server", "redis-binaries");
  try {
    return readdirSync(built)
      .sort()
      .reverse()
      .map((version) => path.join(built, version, "redis-server"))
      .find((candidate) => existsSync(candidate));
  } catch {
    return undefined;
  }
}

/** Starts `redis-server` on a private port with persistence off. Throws MissingRedisError when it is not installed. */
export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalService> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new MissingRedisError();
  const port = options.port ?? (await freePort());
  options.log?.(`starting ${binary} on 127.0.0.1:${port}`);
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  track(child);
  await waitForRedisPing(child, port);
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    started: true,
    pid: child.pid,
    description: `redis-server on 127.0.0.1:${port} (no persistence)`,
    stop: () => stopChild(child, "SIGTERM", 10_000),
  };
}

/** Polls with a raw PING (no client library needed) until Redis answers +PONG. */
async function waitForRedisPing(child: ChildProcess, port: number, timeoutMs = 20_000): Promise<void> {
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (code ${child.exitCode}):\n${output.trim()}`);
    if (await redisAnswersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms:\n${output.trim()}`);
}

/** True when a Redis on host:port answers a raw PING with +PONG (no client library needed). */
export function redisAnswersPing(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(timeoutMs);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** REDIS_URL when set, else a local redis-server on a private port. */
export async function ensureRedis(options: LocalRedisOptions = {}): Promise<LocalService> {
  const given = process.env.REDIS_URL;
  if (given) {
    return { url: given, started: false, description: `Redis from REDIS_URL (${redactUrl(given)})`, stop: async () => {} };
  }
  return startLocalRedis(options);
}

// ---------------------------------------------------------------- both

export interface LocalServices {
  databaseUrl: string;
  redisUrl: string;
  postgres: LocalService;
  redis: LocalService;
  /** Stops whatever was started here (Redis and PostgreSQL), once. */
  stop(): Promise<void>;
}

export async function ensureLocalServices(
  options: { pgDataDir?: string; log?: Log } = {},
): Promise<LocalServices> {
  // Redis first: a missing redis-server should stop us before we spend time on initdb.
  const redis = await ensureRedis({ log: options.log });
  let postgres: LocalService;
  try {
    postgres = await ensurePostgres({ dataDir: options.pgDataDir, log: options.log });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    databaseUrl: postgres.url,
    redisUrl: redis.url,
    postgres,
    redis,
    stop: () => (stopping ??= Promise.allSettled([redis.stop(), postgres.stop()]).then(() => {})),
  };
}

/**
 * Runs `handler` once on the first SIGINT/SIGTERM/SIGHUP; a second signal exits at once.
 * Returns a function that removes the listeners.
 */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => void | Promise<void>): () => void {
  let received = false;
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const listener = (signal: NodeJS.Signals) => {
    if (received) {
      console.error(`\n${signal} again: exiting now`);
      process.exit(130);
    }
    received = true;
    void handler(signal);
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}

