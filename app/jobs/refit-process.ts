// Node flags of the process that runs shop refits (app/jobs/worker.ts forks it with them;
// `npm run bench` runs with them, so the refit benchmark measures what production runs).
//
// A large refit allocates a few objects per customer and order (summaries, predictions,
// rows); with V8's default 16 MiB semi-spaces most survive a scavenge or two and are
// copied into the old generation. A 64 MiB semi-space lets them die young: at 1,000,000
// customers it cut the refit's peak RSS from ~1.8 GB to ~1.3 GB and its Node CPU by ~8 s.
export const REFIT_PROCESS_NODE_FLAGS = ["--max-semi-space-size=64"] as const;
