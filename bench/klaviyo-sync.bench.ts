// Klaviyo initial sync: a shop of 1,000,000 subscribed customers (BENCH_KLAVIYO_CUSTOMERS or
// --customers), every one in a synced segment, sent by the real engine
// (app/destinations/sync.server.ts, a "full" "initial" pass) through the real adapter
// (app/destinations/klaviyo.server.ts, production settings) to the rate-limited fake
// (demo/fakes/klaviyo.ts, Klaviyo's documented limits: bulk import 10/s burst, 150/min).
//
// The lower bound is what the fake's limits allow, whatever the client: J import jobs of at
// most 10,000 profiles need J job creations and at least J status reads, each endpoint at
// 10/s and 150/min in fixed windows, plus one job's processing in the fake. The figure to
// read is elapsed / bound: near 1 the sync is bounded by Klaviyo's limits, far above it by
// Tenure (its database reads, serialisation, and waiting for each batch's jobs in turn).
//
// Two bounds are printed: for the jobs Tenure sent, and had every job been full (10,000
// profiles). A job's list relationship covers all its profiles, so an engine batch of 10,000
// customers spread over k lists becomes k jobs: the first bound then grows with k.
//
// Target (issue 14): bounded by the fake's documented limits, not by Tenure (read here as
// elapsed ≤ 2 × the bound with full jobs). Options: --customers <n>, --segments <n> (default
// 5 RFM segments).
//
// The fake runs in a child process of its own (Klaviyo is another machine): parsing a
// million profiles' JSON is Klaviyo's work, not Tenure's, and in this process it took the
// engine's CPU. Its limits and checks are the fake's own, unchanged. The CPU seconds of
// Tenure's process, the fake's and PostgreSQL's backends (this database's, from /proc) are
// printed with the load average, so a loaded machine can be told from a slow Tenure.
//
// Besides the fake's limits, a full pass costs PostgreSQL a read per batch of 10,000 (one
// group's candidates with their states and outbox rows, an RFM group through its segment
// index) and a commit per batch (member rows written, on a first pass by binary COPY: no
// Customer row locked or probed, no foreign-key check, ADR 0022); each read starts as soon as
// the previous one is back, on a second connection, commits on two (the pass's own and a
// spare one, the least busy), up to 8 batches are in flight, and each job's first status read
// waits as long as the last job took.
// docs/destinations/klaviyo.md has the CPU seconds per process, run by run, with the load
// average: on a 2-core machine shared with PostgreSQL and the fake, their CPU seconds, not
// the 10 imports a second, set the pace.

import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type pg from "pg";
import { applyMigrations } from "../app/db/migrations.server";
import { createPgPool } from "../app/db/pg.server";
import { type DestinationAdapter } from "../app/destinations/adapter";
import { KLAVIYO_BATCHES_IN_FLIGHT, klaviyoAdapter } from "../app/destinations/klaviyo.server";
import { destinationSecretContext, sealSecret } from "../app/destinations/secrets.server";
import { runDestinationPass } from "../app/destinations/sync.server";
import { SEGMENT_DEFINITIONS } from "../app/analytics/segments";
import { FAKE_KLAVIYO_LIMITS, startFakeKlaviyo } from "../demo/fakes/klaviyo";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { benchDatabase } from "./lib/database";
import { type BenchResult, round } from "./lib/report";

const SHOP = "bench-klaviyo.myshopify.com";
const API_KEY = "pk_bench_klaviyo_sync";
const JOB_PROFILES = 10_000;
const log = (line: string) => console.error(`bench klaviyo-sync: ${line}`);

/**
 * Seconds before the n-th request may be sent (the first at 0) under fixed windows of
 * `burst` a second and `steady` a minute: the fewest whole windows the requests fit in.
 */
export function fixedWindowSeconds(n: number, burst: number, steady: number): number {
  if (n <= 0) return 0;
  return Math.max(Math.ceil(n / burst) - 1, (Math.ceil(n / steady) - 1) * 60);
}

async function seed(pool: pg.Pool, customers: number, segments: readonly string[]): Promise<string> {
  log(`seeding ${customers.toLocaleString("en-US")} customers`);
  await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'UTC', now())`, [SHOP]);
  await pool.query(
    `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", "shopifyUpdatedAt", "emailConsentState")
     SELECT $1, g, 'customer' || g || '@example.com', 'First' || g, 'Last', now(), 'SUBSCRIBED'
     FROM generate_series(1, $2::bigint) AS g`,
    [SHOP, customers],
  );
  await pool.query(
    `INSERT INTO "CustomerMetrics" (shop, "customerId", orders, "netSpentMinor", segment, behaviours, "pAlive", "predictedClvMinor",
                                    "expectedPurchases365d", "expectedOrderValueMinor", "chanceOfOrder90d", "expectedNextOrderDay", "asOfDay")
     SELECT $1, g, 1 + g % 7, 1000 + (g * 37) % 90000, ($3::text[])[1 + g % array_length($3::text[], 1)], '{}',
            0.5 + (g % 50) / 100.0, 500 + (g * 13) % 40000, 1.5, 4200, (g % 100) / 100.0, DATE '2027-01-01' + (g % 90)::int, 20400
     FROM generate_series(1, $2::bigint) AS g`,
    [SHOP, customers, segments],
  );
  const sealed = sealSecret(API_KEY, destinationSecretContext(SHOP, "klaviyo"));
  const destination = await pool.query<{ id: string }>(
    `INSERT INTO "Destination" (shop, kind, "sealedCredentials", account) VALUES ($1, 'klaviyo', $2, '{}') RETURNING id::text AS id`,
    [SHOP, sealed],
  );
  const id = destination.rows[0]!.id;
  for (const key of segments) await pool.query(`INSERT INTO "DestinationSegment" ("destinationId", "segmentKey") VALUES ($1, $2)`, [id, key]);
  await pool.query(`ANALYZE "Customer"; ANALYZE "CustomerMetrics"`);
  return id;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds so far of each PostgreSQL backend connected to this database (read from
 * /proc: the server runs on this machine), by pid, with its kind: the pass's own connections
 * ("client backend", and their parallel workers) apart from autovacuum workers, which come and go (the seeded million
 * rows wake them) and whose share a start-and-end reading catches only in part; empty where
 * /proc cannot be read.
 */
async function backendCpuSeconds(pool: pg.Pool): Promise<Map<number, { seconds: number; client: boolean }>> {
  const backends = await pool.query<{ pid: number; type: string | null }>(
    `SELECT pid, backend_type AS type FROM pg_stat_activity WHERE datname = current_database()`,
  );
  const seconds = new Map<number, { seconds: number; client: boolean }>();
  for (const { pid, type } of backends.rows) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
    if (stat === null) continue;
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    seconds.set(pid, { seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND, client: type === "client backend" || type === "parallel worker" });
  }
  return seconds;
}

/** What the bench reads from the fake once the sync is done. */
interface FakeSummary {
  jobs: number;
  landed: number;
  statusReads: number;
  rateLimited: number;
  cpuS: number;
}

const FAKE_CHILD_FLAG = "--fake-klaviyo-child";

/** In the child: the fake on a loopback port, its URL sent to the parent, its summary on request. */
async function serveFake(): Promise<void> {
  const fake = await startFakeKlaviyo();
  const cpuAtStart = process.cpuUsage();
  process.on("message", (message: unknown) => {
    if (message === "summary") {
      const cpu = process.cpuUsage(cpuAtStart);
      const summary: FakeSummary = {
        jobs: fake.state.jobs(API_KEY).length,
        landed: [...fake.state.lists(API_KEY).values()].reduce((sum, members) => sum + members.length, 0),
        statusReads: fake.state.requestsTo("bulk-import.get").length,
        rateLimited: fake.state.rateLimited,
        cpuS: (cpu.user + cpu.system) / 1e6,
      };
      process.send!({ summary });
    } else if (message === "close") {
      void fake.close().then(() => process.disconnect());
    }
  });
  process.send!({ url: fake.url });
}

interface FakeProcess {
  url: string;
  summary(): Promise<FakeSummary>;
  close(): Promise<void>;
}

/** Starts the fake in a child process (this file run with FAKE_CHILD_FLAG, under the same loader flags). */
async function startFakeProcess(): Promise<FakeProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [FAKE_CHILD_FLAG], { execArgv: process.execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = async <T>(key: string): Promise<T> => {
    for (;;) {
      const [message] = (await Promise.race([once(child, "message"), once(child, "exit").then(() => { throw new Error("the fake Klaviyo process exited"); })])) as [Record<string, unknown>];
      if (key in message) return message[key] as T;
    }
  };
  const url = await next<string>("url");
  return {
    url,
    summary: () => {
      const answer = next<FakeSummary>("summary");
      child.send("summary");
      return answer;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      if (child.connected) child.send("close");
      else child.kill();
      await exited;
    },
  };
}

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: { customers: { type: "string" }, segments: { type: "string" } },
    strict: false,
  });
  const customers = Number(values.customers ?? process.env.BENCH_KLAVIYO_CUSTOMERS ?? 1_000_000);
  const segmentCount = Number(values.segments ?? 5);
  const segments = Object.values(SEGMENT_DEFINITIONS).slice(0, segmentCount).map((definition) => definition.key);
  process.env.TENURE_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString("base64");

  // BENCH_PG_DATA_DIR: a cluster of its own (another benchmark may hold the shared one).
  const services = await ensureLocalServices({ pgDataDir: process.env.BENCH_PG_DATA_DIR ?? path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  const database = await benchDatabase(services.databaseUrl, "tenure_bench_klaviyo");
  const fake = await startFakeProcess();
  const pool = createPgPool(database.url, { max: 4 });
  try {
    await applyMigrations(database.url);
    const destinationId = await seed(pool, customers, segments);

    const loadAtStart = (await readFile("/proc/loadavg", "utf8").catch(() => "")).split(" ").slice(0, 3).join(" ");
    log(`initial sync; load average ${loadAtStart}`);
    const backendsAtStart = await backendCpuSeconds(pool);
    const cpuAtStart = process.cpuUsage();
    const started = process.hrtime.bigint();
    // The adapter's share of the time (HTTP, the fake's jobs, polling) against the engine's (database, comparing).
    let inAdapterNs = 0n;
    const timed = (apiKey: string, account: Record<string, unknown>): DestinationAdapter => {
      const adapter = klaviyoAdapter(apiKey, account, { baseUrl: fake.url });
      return {
        ...adapter,
        async push(changes, targets) {
          const at = process.hrtime.bigint();
          try {
            return await adapter.push(changes, targets);
          } finally {
            inAdapterNs += process.hrtime.bigint() - at;
          }
        },
      };
    };
    const result = await runDestinationPass(
      { pool, adapterFor: (_kind, apiKey, account) => timed(apiKey, account) },
      destinationId,
      "full",
      "initial",
    );
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuAtStart);
    const backendsAtEnd = await backendCpuSeconds(pool);
    const cpuSince = (client: boolean) =>
      [...backendsAtEnd].filter(([, end]) => end.client === client).reduce((sum, [pid, end]) => sum + end.seconds - (backendsAtStart.get(pid)?.seconds ?? 0), 0);
    const postgresCpuS = cpuSince(true);
    const autovacuumCpuS = cpuSince(false);
    const loadAverage = (await readFile("/proc/loadavg", "utf8").catch(() => "")).split(" ").slice(0, 3).join(" ");
    log(`done in ${round(elapsedS, 1)} s; load average ${loadAverage}`);

    const summary = await fake.summary();
    const landed = summary.landed;
    const limits = FAKE_KLAVIYO_LIMITS["bulk-import.create"];
    const reads = FAKE_KLAVIYO_LIMITS["bulk-import.get"];
    const minJobs = Math.ceil(customers / JOB_PROFILES);
    const processingS = 0.05 + JOB_PROFILES / 200_000; // the fake's default job timing
    const boundS = Math.max(fixedWindowSeconds(summary.jobs, limits.burst, limits.steady), fixedWindowSeconds(summary.jobs, reads.burst, reads.steady)) + processingS;
    // The same bound had every job been full (the fewest jobs the profiles need).
    const fewestBoundS = fixedWindowSeconds(minJobs, limits.burst, limits.steady) + processingS;
    const ratio = elapsedS / fewestBoundS;
    return [
      {
        name: `initial sync, ${customers.toLocaleString("en-US")} profiles, ${segments.length} lists`,
        metrics: {
          "elapsed s": round(elapsedS, 1),
          "bound for the jobs sent s": round(boundS, 1),
          "bound with full jobs s": round(fewestBoundS, 1),
          "elapsed / bound with full jobs": round(ratio, 1),
          "profiles/s": Math.round(customers / elapsedS),
          "in the adapter s": round(Number(inAdapterNs) / 1e9, 1),
          "Tenure CPU s": round((cpu.user + cpu.system) / 1e6, 1),
          "fake Klaviyo CPU s": round(summary.cpuS, 1),
          "PostgreSQL CPU s": round(postgresCpuS, 1),
          "PostgreSQL autovacuum CPU s (seen at the end)": round(autovacuumCpuS, 1),
          "import jobs": summary.jobs,
          "fewest jobs possible": minJobs,
          "status reads": summary.statusReads,
          "429 answers": summary.rateLimited,
          "profiles in lists": landed,
          "run status": result.status,
        },
        target: "bounded by the fake's documented limits (elapsed ≤ 2 × the bound with full jobs), every profile in its list",
        pass: result.status === "done" && landed === customers && ratio <= 2,
        notes: `A full pass reads customers grouped by their first chosen segment, so an engine batch of ${JOB_PROFILES} is one import job; up to ${KLAVIYO_BATCHES_IN_FLIGHT} batches in flight (the next read and compared while earlier jobs run). The fake runs in a child process (Klaviyo is another machine). Load average at the start: ${loadAtStart}, at the end: ${loadAverage} (on ${availableParallelism()} cores).`,
      },
    ];
  } finally {
    await pool.end().catch(() => {});
    await fake.close();
    await database.drop().catch(() => {});
    await services.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes(FAKE_CHILD_FLAG)) {
  void serveFake();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((results) => console.log(JSON.stringify(results, null, 2)));
}
