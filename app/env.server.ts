import { z } from "zod";

// Boolean flags arrive as strings; only these spellings are accepted so a typo fails loudly.
const flag = z
  .enum(["true", "false", "1", "0", ""])
  .default("false")
  .transform((value) => value === "true" || value === "1");

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgresql:// URL" }),
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// URL" }),
    SHOPIFY_API_KEY: z.string().min(1),
    SHOPIFY_API_SECRET: z.string().min(1),
    SHOPIFY_APP_URL: z.url(),
    SCOPES: z.string().default("read_orders,read_all_orders,read_customers,write_customers"),
    SHOP_CUSTOM_DOMAIN: z.string().optional(),
    // Demo mode serves the demo shop's pages at localhost without Shopify admin. Never in production.
    TENURE_DEMO_MODE: flag,
    TENURE_DEMO_SHOP: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "must be a *.myshopify.com domain")
      .default("tenure-demo.myshopify.com"),
    // Largest webhook body accepted (bytes). Orders with hundreds of line items run to
    // a few hundred KB; 5 MiB leaves ample room while bounding memory per request.
    WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().positive().default(5 * 1024 * 1024),
    // Bytes of webhook bodies held at once across all requests (ingest/body-budget.ts): a
    // few largest bodies, or thousands of real ones; above it the intake answers 503.
    WEBHOOK_BODY_BUDGET_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
    // How long a webhook body may take to arrive. Shopify sends it at once and waits 5 s
    // for the answer; a body still arriving after this is broken or hostile.
    WEBHOOK_BODY_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
    // How old a PENDING delivery must be before the sweeper re-enqueues it.
    SWEEP_AFTER_SECONDS: z.coerce.number().int().positive().default(30),
    WORKER_CONCURRENCY: z.coerce.number().int().positive().default(8),
    SHUTDOWN_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
  })
  .superRefine((env, ctx) => {
    // Large bodies may hold only part of the budget (ingest/body-budget.ts): a largest one must fit in it.
    if (env.WEBHOOK_BODY_BUDGET_BYTES < 2 * env.WEBHOOK_MAX_BODY_BYTES) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_BODY_BUDGET_BYTES"],
        message: `must be at least twice WEBHOOK_MAX_BODY_BYTES (${2 * env.WEBHOOK_MAX_BODY_BYTES})`,
      });
    }
    if (env.TENURE_DEMO_MODE && env.NODE_ENV === "production") {
      ctx.addIssue({
        code: "custom",
        path: ["TENURE_DEMO_MODE"],
        message: "demo mode cannot be switched on when NODE_ENV=production",
      });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "InvalidEnvironmentError";
  }
}

/** Validates an environment; throws an error naming every missing or malformed variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    const value = source[name];
    return value === undefined || value === "" ? `${name} is missing` : `${name} ${issue.message}`;
  });
  throw new InvalidEnvironmentError(problems);
}

let cached: Env | undefined;

/** The process environment, validated once. A bad environment stops the process with a clear message. */
export function env(): Env {
  if (cached) return cached;
  try {
    cached = parseEnv(process.env);
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) {
      console.error(`tenure: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  return cached;
}

// Read at each use rather than validated once with the rest: tests, benchmarks and the demo
// give each run its own queue prefix, and scripts that only enqueue (the demo, benchmarks)
// run without the web app's Shopify variables.
const QueuePrefix = z.string().regex(/^[A-Za-z0-9:_-]+$/, "must be letters, digits, ':', '_' or '-'");
const RedisUrl = z.url({ protocol: /^rediss?$/, error: "must be a redis:// URL" });

/** TENURE_QUEUE_PREFIX: the Redis key prefix of every queue (default "tenure"). */
// Every enqueue asks for the prefix: the last value checked is remembered, so the check
// runs once per value, not once per job.
let checkedPrefix: string | undefined;

export function queuePrefix(source: Record<string, string | undefined> = process.env): string {
  const value = source.TENURE_QUEUE_PREFIX || "tenure";
  if (value === checkedPrefix) return value;
  const parsed = QueuePrefix.safeParse(value);
  if (!parsed.success) throw new InvalidEnvironmentError([`TENURE_QUEUE_PREFIX ${parsed.error.issues[0]?.message ?? "is invalid"}`]);
  checkedPrefix = parsed.data;
  return parsed.data;
}

/** REDIS_URL, for processes that only enqueue. */
export function redisUrl(source: Record<string, string | undefined> = process.env): string {
  const value = source.REDIS_URL;
  if (!value) throw new InvalidEnvironmentError(["REDIS_URL is missing"]);
  const parsed = RedisUrl.safeParse(value);
  if (!parsed.success) throw new InvalidEnvironmentError([`REDIS_URL ${parsed.error.issues[0]?.message ?? "is invalid"}`]);
  return parsed.data;
}

/**
 * TENURE_TEST_INGEST_DELAY_MS: tests only (NODE_ENV=test) hold each delivery this long inside
 * its transaction, to kill a worker mid-job. 0 anywhere else.
 */
export function testIngestDelayMs(source: Record<string, string | undefined> = process.env): number {
  if (source.NODE_ENV !== "test") return 0;
  const value = Number(source.TENURE_TEST_INGEST_DELAY_MS ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}
