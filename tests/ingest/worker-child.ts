import { consoleLogger } from "~/lib/log.server";
import { startWorkers } from "~/worker/workers.server";

// A worker process for tests that need to kill one: startWorkers with short job locks so
// another worker takes over a dead one's job within a second or two.

const handle = await startWorkers({
  concurrency: 1,
  lockDurationMs: Number(process.env.CHILD_LOCK_DURATION_MS ?? 1_000),
  stalledIntervalMs: Number(process.env.CHILD_STALLED_INTERVAL_MS ?? 500),
  sweep: false,
  logger: consoleLogger,
});
console.log("child worker ready");
process.on("SIGTERM", () => {
  void handle.close().then(() => process.exit(0));
});
