// Node flags of the worker processes: `npm run worker` (ingest, live metrics, backfill)
// and the refit process it forks (app/worker/main.ts). `npm run bench` runs with them, so
// the refit and backfill benchmarks measure what production runs.
//
// A large refit allocates a few objects per customer and order (summaries, predictions,
// rows); with V8's default 16 MiB semi-spaces most survive a scavenge or two and are
// copied into the old generation. A 64 MiB semi-space lets them die young, which cut both
// the refit's peak RSS and its Node CPU (ADR 0008).
// A bulk import's batches are the same kind of garbage.
export const WORKER_NODE_FLAGS = ["--max-semi-space-size=64"] as const;
