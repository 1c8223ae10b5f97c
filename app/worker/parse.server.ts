import { type Job, UnrecoverableError } from "bullmq";
import { PAYLOADS, type Payload, type QueueName } from "~/queues/contract";

// The one parse step every job passes through before its processor runs. A payload that
// does not match the queue's contract fails its job once, without retries (retrying the
// same bytes cannot help), and stays visible in the failed set.

/** Parses a job's data against its queue's payload schema; UnrecoverableError when it does not fit. */
export function parsePayload<Q extends QueueName>(queue: Q, data: unknown): Payload<Q> {
  const parsed = PAYLOADS[queue].safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${queue} job data: ${parsed.error.message}`);
  return parsed.data as Payload<Q>;
}

/** A processor that receives its job's payload already parsed. */
export type Processor<Q extends QueueName, R = unknown> = (data: Payload<Q>, job: Job) => Promise<R>;

/** The BullMQ processor function for `queue`: parse, then hand over. */
export function parsedProcessor<Q extends QueueName, R>(queue: Q, processor: Processor<Q, R>): (job: Job) => Promise<R> {
  return async (job: Job) => processor(parsePayload(queue, job.data), job);
}
