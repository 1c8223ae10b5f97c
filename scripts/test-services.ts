import { accessSync, constants, existsSync, readFileSync, readdirSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { findRedisServer, redisAnswersPing, startLocalRedis } from "./local-services";
import { type LocalService, findOnPath, redactUrl } from "./service-processes";

// The services `npm test` needs, found or started by the test run itself
// (tests/support/global-setup.ts, tests/browser/global-setup.ts), so a machine with only
// Node, npm and the platform's package manager runs the whole suite. Each service is
// looked for in a fixed order; the order itself is a pure function of the environment and
// what is installed, tested in test-services.test.ts.
//
// TENURE_TEST_SERVICES=private skips what is outside the project (a server on the default
// ports, a system or Playwright-cached Chromium), so CI exercises the self-setup path.

export type TestServicesMode = "auto" | "private";
/** The variables read here (process.env, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

export function testServicesMode(env: Env = process.env): TestServicesMode {
  const value = env.TENURE_TEST_SERVICES?.trim() || "auto";
  if (value === "auto" || value === "private") return value;
  throw new Error(`TENURE_TEST_SERVICES must be "auto" (the default) or "private", not "${value}"`);
}

export const SYSTEM_POSTGRES_URLS = ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://postgres@127.0.0.1:5432/postgres"];
export const SYSTEM_REDIS_URL = "redis://127.0.0.1:6379";

// ---------------------------------------------------------------- the orders (pure)

export type PostgresSource = { kind: "given"; url: string } | { kind: "system"; urls: string[] } | { kind: "embedded" };

export function postgresSources(env: Env, mode: TestServicesMode): PostgresSource[] {
  if (env.TEST_DATABASE_URL) return [{ kind: "given", url: env.TEST_DATABASE_URL }];
  return [...(mode === "auto" ? [{ kind: "system" as const, urls: SYSTEM_POSTGRES_URLS }] : []), { kind: "embedded" }];
}

export type RedisSource =
  | { kind: "given"; url: string }
  | { kind: "system"; url: string }
  | { kind: "redis-server"; binary: string }
  | { kind: "redis-memory-server" };

export function redisSources(env: Env, mode: TestServicesMode, redisServer: string | undefined): RedisSource[] {
  if (env.REDIS_URL) return [{ kind: "given", url: env.REDIS_URL }];
  return [
    ...(mode === "auto" ? [{ kind: "system" as const, url: SYSTEM_REDIS_URL }] : []),
    ...(redisServer ? [{ kind: "redis-server" as const, binary: redisServer }] : []),
    { kind: "redis-memory-server" },
  ];
}

export type ChromiumSource =
  | { kind: "given"; path: string }
  | { kind: "system"; path: string }
  | { kind: "playwright"; path: string }
  | { kind: "sparticuz" };

export interface InstalledBrowsers {
  platform: NodeJS.Platform;
  arch: string;
  /** System Chromium or Chrome executables that exist, most preferred first. */
  system: string[];
  /** Chromium executables in Playwright's browser cache, newest first. */
  playwright: string[];
}

export function chromiumSources(env: Env, mode: TestServicesMode, installed: InstalledBrowsers): ChromiumSource[] {
  if (env.CHROMIUM_PATH) return [{ kind: "given", path: env.CHROMIUM_PATH }];
  return [
    ...(mode === "auto" ? installed.system.map((found) => ({ kind: "system" as const, path: found })) : []),
    ...(mode === "auto" ? installed.playwright.map((found) => ({ kind: "playwright" as const, path: found })) : []),
    // The package ships a Linux x64 binary only.
    ...(installed.platform === "linux" && installed.arch === "x64" ? [{ kind: "sparticuz" as const }] : []),
  ];
}

/** The command that installs Redis on this platform (`/etc/os-release`'s ID and ID_LIKE on Linux). */
export function redisInstallCommand(platform: NodeJS.Platform, osRelease = ""): string {
  if (platform === "darwin") return "brew install redis";
  if (platform === "win32") return "use WSL, or set REDIS_URL to a Redis server";
  const ids = /^(?:ID|ID_LIKE)=(.*)$/gm;
  const family = [...osRelease.matchAll(ids)].flatMap((match) => match[1].replace(/"/g, "").split(/\s+/));
  if (family.some((id) => id === "debian" || id === "ubuntu")) return "apt-get install -y redis-server";
  if (family.some((id) => id === "alpine")) return "apk add redis";
  if (family.some((id) => id === "fedora" || id === "rhel" || id === "centos")) return "dnf install -y redis";
  if (family.some((id) => id === "arch")) return "pacman -S --noconfirm redis";
  if (family.some((id) => id === "suse" || id === "opensuse")) return "zypper install -y redis";
  return "install Redis with the platform's package manager (Debian/Ubuntu: apt-get install -y redis-server)";
}

// ---------------------------------------------------------------- what is installed

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const SYSTEM_CHROMIUM: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable", "/snap/bin/chromium"],
  darwin: ["/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"],
};
const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** Playwright's cache: chromium-<revision>/<platform dir>/chrome, newest revision first. */
function playwrightChromiums(env: Env, platform: NodeJS.Platform): string[] {
  const cache =
    env.PLAYWRIGHT_BROWSERS_PATH ||
    (platform === "darwin" ? path.join(os.homedir(), "Library", "Caches", "ms-playwright") : path.join(os.homedir(), ".cache", "ms-playwright"));
  let entries: string[];
  try {
    entries = readdirSync(cache);
  } catch {
    return [];
  }
  const revision = (name: string) => Number(name.slice(name.lastIndexOf("-") + 1)) || 0;
  const inside =
    platform === "darwin"
      ? ["chrome-mac/Chromium.app/Contents/MacOS/Chromium", "chrome-mac-arm64/Chromium.app/Contents/MacOS/Chromium"]
      : ["chrome-linux/chrome", "chrome-linux64/chrome"];
  return entries
    .filter((name) => /^chromium-\d+$/.test(name))
    .sort((a, b) => revision(b) - revision(a))
    .flatMap((name) => inside.map((relative) => path.join(cache, name, relative)))
    .filter(isExecutable);
}

export function installedBrowsers(env: Env = process.env): InstalledBrowsers {
  const onPath = CHROMIUM_NAMES.map((name) => findOnPath(name)).filter((found): found is string => !!found);
  const system = [...(SYSTEM_CHROMIUM[process.platform] ?? []).filter(isExecutable), ...onPath.filter(isExecutable)];
  return { platform: process.platform, arch: process.arch, system: [...new Set(system)], playwright: playwrightChromiums(env, process.platform) };
}

// ---------------------------------------------------------------- PostgreSQL

/** A test run's PostgreSQL: `url` is the admin database the run creates its databases from. */
async function postgresAnswers(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * An embedded PostgreSQL in a fresh temporary folder, removed when stopped: a test run's
 * databases are throwaway, and a folder of its own lets two runs (the unit and browser
 * configs, two developers) start side by side without one finding the other's cluster.
 */
async function startTestPostgres(log: (line: string) => void): Promise<LocalService> {
  const folder = await mkdtemp(path.join(os.tmpdir(), "tenure-test-pg-"));
  // As root the cluster runs as `postgres`, which must be able to enter the folder.
  await chmod(folder, 0o755);
  try {
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, "data"), log });
    return {
      ...postgres,
      description: `embedded PostgreSQL started for this run, data in ${folder}`,
      stop: async () => {
        await postgres.stop();
        await rm(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

export async function resolveTestPostgres(options: { env?: Env; log?: (line: string) => void } = {}): Promise<LocalService> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const skipped: string[] = [];
  for (const source of postgresSources(env, testServicesMode(env))) {
    if (source.kind === "given") {
      const problem = await postgresAnswers(source.url);
      if (problem) throw new Error(`TEST_DATABASE_URL (${redactUrl(source.url)}) does not answer: ${problem}`);
      return { url: source.url, started: false, description: `from TEST_DATABASE_URL`, stop: async () => {} };
    }
    if (source.kind === "system") {
      for (const url of source.urls) {
        const problem = await postgresAnswers(url);
        if (!problem) return { url, started: false, description: "the server on 127.0.0.1:5432", stop: async () => {} };
        skipped.push(`${redactUrl(url)}: ${problem}`);
      }
      continue;
    }
    if (skipped.length) log(`no usable PostgreSQL on 127.0.0.1:5432 (${skipped.join("; ")}): starting an embedded one`);
    return startTestPostgres(log);
  }
  throw new Error("unreachable: the embedded PostgreSQL is always the last source");
}

// ---------------------------------------------------------------- Redis

export class NoRedisError extends Error {
  constructor(reasons: string[], installCommand: string) {
    super(
      `Redis is needed for the tests and none was found or could be started: install it (${installCommand}), or set REDIS_URL\n` +
        reasons.map((reason) => `  - ${reason}`).join("\n"),
    );
    this.name = "NoRedisError";
  }
}

export function thisPlatformsRedisInstallCommand(): string {
  let osRelease = "";
  try {
    osRelease = readFileSync("/etc/os-release", "utf8");
  } catch {
    // Not Linux, or no os-release: the command falls back to a general hint.
  }
  return redisInstallCommand(process.platform, osRelease);
}

/**
 * redis-memory-server, when it is installed: it downloads Redis's source and compiles it
 * on first use, which fails without internet; its error is reported, and we go on.
 */
async function startRedisMemoryServer(log: (line: string) => void): Promise<LocalService> {
  const specifier = "redis-memory-server"; // not a dependency: loaded only when a developer installed it
  const module = (await import(specifier)) as {
    RedisMemoryServer: { create(): Promise<{ getHost(): Promise<string>; getPort(): Promise<number>; stop(): Promise<boolean> }> };
  };
  log("starting redis-memory-server (it builds Redis on first use)");
  const server = await module.RedisMemoryServer.create();
  const url = `redis://${await server.getHost()}:${await server.getPort()}`;
  return { url, started: true, description: "redis-memory-server started for this run", stop: async () => void (await server.stop()) };
}

function isModuleMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

export async function resolveTestRedis(options: { env?: Env; log?: (line: string) => void } = {}): Promise<LocalService> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const reasons: string[] = [];
  const redisServer = findRedisServer();
  if (!redisServer) reasons.push("no redis-server on PATH");
  for (const source of redisSources(env, testServicesMode(env), redisServer)) {
    switch (source.kind) {
      case "given":
        return { url: source.url, started: false, description: "from REDIS_URL", stop: async () => {} };
      case "system":
        if (await redisAnswersPing(6379, "127.0.0.1")) return { url: source.url, started: false, description: "the server on 127.0.0.1:6379", stop: async () => {} };
        reasons.push("nothing answers on 127.0.0.1:6379");
        continue;
      case "redis-server": {
        const started = await startLocalRedis({ binary: source.binary, log });
        return { ...started, description: `${source.binary} started for this run, no persistence` };
      }
      case "redis-memory-server":
        try {
          return await startRedisMemoryServer(log);
        } catch (error) {
          reasons.push(isModuleMissing(error) ? "redis-memory-server is not installed" : `redis-memory-server failed: ${(error as Error).message.split("\n")[0]}`);
        }
    }
  }
  throw new NoRedisError(reasons, thisPlatformsRedisInstallCommand());
}

// ---------------------------------------------------------------- Chromium

export interface ChromiumChoice {
  executablePath: string;
  description: string;
  /** Environment for the browser process (the bundled Chromium's own libraries). */
  env?: Record<string, string>;
}

async function unpackSparticuzChromium(): Promise<ChromiumChoice> {
  const { default: chromium, inflate } = await import("@sparticuz/chromium");
  // Unpacked into the temporary folder on first use (a few seconds), reused after.
  const executablePath = await chromium.executablePath();
  // The package also ships the NSS and expat libraries it links against, for machines
  // that lack them; they need only glibc.
  // (The package's main module is <package>/build/index.js; its brotli files are in <package>/bin.)
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium")), "..", "bin");
  const libraries = path.join(await inflate(path.join(bin, "al2023.tar.br")), "lib");
  const current = process.env.LD_LIBRARY_PATH;
  return {
    executablePath,
    description: "@sparticuz/chromium, unpacked from node_modules",
    env: { LD_LIBRARY_PATH: current ? `${libraries}${path.delimiter}${current}` : libraries },
  };
}

export class NoChromiumError extends Error {
  constructor(reasons: string[]) {
    super(
      "Chromium is needed for the browser tests and none was found: set CHROMIUM_PATH to a Chromium or Chrome executable, or install one " +
        "(Debian/Ubuntu: apt-get install -y chromium; macOS: brew install --cask chromium; anywhere: npx playwright install chromium)\n" +
        reasons.map((reason) => `  - ${reason}`).join("\n"),
    );
    this.name = "NoChromiumError";
  }
}

export async function resolveChromium(options: { env?: Env } = {}): Promise<ChromiumChoice> {
  const env = options.env ?? process.env;
  const mode = testServicesMode(env);
  const installed = installedBrowsers(env);
  const reasons: string[] = [];
  if (mode === "auto" && installed.system.length === 0) reasons.push("no system Chromium or Chrome");
  if (mode === "auto" && installed.playwright.length === 0) reasons.push("none in Playwright's browser cache");
  if (mode === "private") reasons.push("TENURE_TEST_SERVICES=private: system and Playwright-cached browsers not looked at");
  for (const source of chromiumSources(env, mode, installed)) {
    switch (source.kind) {
      case "given":
        if (!existsSync(source.path) || !isExecutable(source.path)) throw new Error(`CHROMIUM_PATH=${source.path} is not an executable file`);
        return { executablePath: source.path, description: "from CHROMIUM_PATH" };
      case "system":
        return { executablePath: source.path, description: "system browser" };
      case "playwright":
        return { executablePath: source.path, description: "Playwright's browser cache" };
      case "sparticuz":
        try {
          return await unpackSparticuzChromium();
        } catch (error) {
          reasons.push(`@sparticuz/chromium could not be unpacked: ${(error as Error).message.split("\n")[0]}`);
        }
    }
  }
  if (!(process.platform === "linux" && process.arch === "x64")) reasons.push(`@sparticuz/chromium ships Linux x64 only (this is ${process.platform}-${process.arch})`);
  throw new NoChromiumError(reasons);
}

// ---------------------------------------------------------------- the run's report

/** One line per service, as printed at the start of a test run (passwords redacted). */
export function serviceLine(name: string, where: string, description: string): string {
  const shown = /^[a-z]+:\/\//.test(where) ? redactUrl(where) : where;
  return `test services: ${name.padEnd(10)} ${shown} (${description})`;
}

/**
 * What a test run would use, found without starting anything (`.ci/run` prints it first):
 * one line per service. Each vitest run prints what it actually started.
 */
export async function testServicesPlan(env: Env = process.env): Promise<string[]> {
  const mode = testServicesMode(env);
  const lines = [`test services: TENURE_TEST_SERVICES=${mode}`];

  let postgres = "embedded PostgreSQL, started by each vitest run in a temporary folder";
  const [firstPostgres] = postgresSources(env, mode);
  if (firstPostgres.kind === "given") postgres = `${redactUrl(firstPostgres.url)} (from TEST_DATABASE_URL)`;
  if (firstPostgres.kind === "system") {
    for (const url of firstPostgres.urls) {
      if (await postgresAnswers(url)) continue;
      postgres = `${url} (the server on 127.0.0.1:5432)`;
      break;
    }
  }
  lines.push(`test services: PostgreSQL ${postgres}`);

  const redisServer = findRedisServer();
  let redis = `none: ${thisPlatformsRedisInstallCommand()}, or set REDIS_URL`;
  for (const source of redisSources(env, mode, redisServer)) {
    if (source.kind === "given") redis = `${redactUrl(source.url)} (from REDIS_URL)`;
    else if (source.kind === "system") {
      if (!(await redisAnswersPing(6379, "127.0.0.1"))) continue;
      redis = `${source.url} (the server on 127.0.0.1:6379)`;
    } else if (source.kind === "redis-server") redis = `${source.binary} on a private port, started by each vitest run`;
    else redis = "redis-memory-server, if installed and it can build Redis";
    break;
  }
  lines.push(`test services: Redis      ${redis}`);

  const [chromium] = chromiumSources(env, mode, installedBrowsers(env));
  const browser = !chromium
    ? "none (the browser tests will stop with what to install)"
    : chromium.kind === "sparticuz"
      ? "@sparticuz/chromium, unpacked from node_modules by the browser tests"
      : `${chromium.path} (${chromium.kind === "given" ? "from CHROMIUM_PATH" : chromium.kind === "system" ? "system browser" : "Playwright's browser cache"})`;
  lines.push(`test services: Chromium   ${browser}`);
  return lines;
}
