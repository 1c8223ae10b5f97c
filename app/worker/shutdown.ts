import { type Logger } from "~/lib/log.server";

// How a worker process stops: on SIGTERM/SIGINT (or a reason of the caller's) it stops once,
// lets `stop` drain within its deadline, logs the result and exits. A stop that hangs past
// its own deadline is cut 2 s later, so an orchestrator's kill never finds it still running.

export interface ProcessShutdown {
  /** Starts the shutdown (once; later calls do nothing). */
  shutdown(reason: string): Promise<void>;
  /** Whether a shutdown has begun (a signal may arrive while the workers still start). */
  readonly stopping: boolean;
}

export function exitOnShutdown(options: {
  name: string;
  deadlineMs: number;
  logger: Logger;
  stop: () => Promise<{ graceful: boolean }>;
}): ProcessShutdown {
  const { name, deadlineMs, logger, stop } = options;
  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${name} stopping`, { reason, deadlineMs });
    setTimeout(() => {
      logger.error(`${name} did not stop in time: exiting`);
      process.exit(1);
    }, deadlineMs + 2_000).unref();
    const result = await stop();
    logger.info(`${name} stopped`, result);
    process.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown(signal));
  return {
    shutdown,
    get stopping() {
      return stopping;
    },
  };
}
