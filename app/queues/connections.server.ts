import { Queue, type QueueOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { queuePrefix, redisUrl } from "~/env.server";
import { DEFAULT_JOB_OPTIONS, type QueueName } from "./contract";

// Redis connections and the process-wide producer queues. Producers fail fast when Redis is
// away (a webhook's row is already stored; the sweeper enqueues it later); workers wait.

export { queuePrefix };

function baseRedisOptions(): RedisOptions {
  return { lazyConnect: false, connectionName: "tenure" };
}

/**
 * Producer connection (web process): fails fast when Redis is unreachable, so a webhook
 * is still acknowledged once its row is stored and the sweeper enqueues it later.
 */
export function createProducerConnection(url = redisUrl()): Redis {
  return new Redis(url, {
    ...baseRedisOptions(),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

/** Worker connection: BullMQ requires maxRetriesPerRequest null for blocking commands. */
export function createWorkerConnection(url = redisUrl()): Redis {
  return new Redis(url, {
    ...baseRedisOptions(),
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

export function queueOptions(name: QueueName, connection: Redis): QueueOptions {
  return { connection, prefix: queuePrefix(), defaultJobOptions: DEFAULT_JOB_OPTIONS[name] };
}

const queues = new Map<string, Queue>();
let producerConnection: Redis | undefined;

/** Process-wide producer queue for `name` (one connection shared by all queues). */
export function producerQueue(name: QueueName): Queue {
  const key = `${queuePrefix()}:${name}`;
  let queue = queues.get(key);
  if (!queue) {
    producerConnection ??= createProducerConnection();
    // An unreachable Redis is expected at times: the error is handled where add() fails.
    producerConnection.on("error", () => {});
    queue = new Queue(name, queueOptions(name, producerConnection));
    queue.on("error", () => {});
    queues.set(key, queue);
  }
  return queue;
}

/**
 * Whether the shared producer connection can take a command now, waiting up to
 * `timeoutMs` while it is still making its first connection. False at once when it is
 * known to be down (reconnecting): a command queued for later would only pile up.
 */
export async function producerReady(timeoutMs: number): Promise<boolean> {
  const connection = producerConnection;
  if (!connection) return false;
  if (connection.status === "ready") return true;
  if (connection.status !== "connecting" && connection.status !== "connect" && connection.status !== "wait") return false;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    connection.once("ready", onReady);
  });
}

export async function closeProducerQueues(): Promise<void> {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
  queues.clear();
  producerConnection?.disconnect();
  producerConnection = undefined;
}
