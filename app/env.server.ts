import { z } from "zod";

const ENCRYPTION_KEY_FORMAT = "must be 32 bytes as base64 (44 characters) or hex (64 characters), e.g. `openssl rand -base64 32`";

/** A 32-byte key written as hex (64 characters) or base64 / base64url (43-44 characters); null when it is neither. */
export function parseEncryptionKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    return key.length === 32 ? key : null;
  }
  return null;
}

const splitKeyList = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");

export interface EncryptionKeys {
  /** TENURE_ENCRYPTION_KEY: seals every new secret; null when unset (outside production). */
  current: Buffer | null;
  /** TENURE_ENCRYPTION_KEYS_RETIRED: opened, never used to seal. */
  retired: Buffer[];
}

/**
 * The destination keys' encryption keys, read at each use (tests and the demo set their
 * own). Throws InvalidEnvironmentError naming the variable when one is malformed.
 */
export function encryptionKeys(source: Record<string, string | undefined> = process.env): EncryptionKeys {
  const problems: string[] = [];
  let current: Buffer | null = null;
  if (source.TENURE_ENCRYPTION_KEY) {
    current = parseEncryptionKey(source.TENURE_ENCRYPTION_KEY);
    if (!current) problems.push(`TENURE_ENCRYPTION_KEY ${ENCRYPTION_KEY_FORMAT}`);
  }
  const retired: Buffer[] = [];
  for (const [index, text] of splitKeyList(source.TENURE_ENCRYPTION_KEYS_RETIRED).entries()) {
    const key = parseEncryptionKey(text);
    if (key) retired.push(key);
    else problems.push(`TENURE_ENCRYPTION_KEYS_RETIRED: key ${index + 1} ${ENCRYPTION_KEY_FORMAT}`);
  }
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
  return { current, retired };
}

/** Where the email tools' APIs are: the real ones unless KLAVIYO_API_URL / MAILCHIMP_API_URL point elsewhere (fakes, the demo). */
export function destinationApiUrls(source: Record<string, string | undefined> = process.env): { klaviyo: string; mailchimp: string | undefined } {
  const problems: string[] = [];
  const url = (name: string): string | undefined => {
    const value = source[name];
    if (!value) return undefined;
    if (!z.url({ protocol: /^https?$/ }).safeParse(value).success) problems.push(`${name} must be an http(s) URL`);
    return value.replace(/\/+$/, "");
  };
  const klaviyo = url("KLAVIYO_API_URL") ?? "https://a.klaviyo.com";
  const mailchimp = url("MAILCHIMP_API_URL");
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
  return { klaviyo, mailchimp };
}

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
    SCOPES: z.string().default("read_orders,read_all_orders,read_customers,write_customers,read_products,read_inventory"),
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
    // Destinations (issue 14): the key that seals email tools' API keys at rest, the keys
    // it replaced (still opened, re-sealed on the next write), and where the tools' APIs are.
    TENURE_ENCRYPTION_KEY: z.string().optional().refine((value) => !value || parseEncryptionKey(value) !== null, ENCRYPTION_KEY_FORMAT),
    TENURE_ENCRYPTION_KEYS_RETIRED: z
      .string()
      .optional()
      .refine((value) => splitKeyList(value).every((key) => parseEncryptionKey(key) !== null), `each key ${ENCRYPTION_KEY_FORMAT}`),
    KLAVIYO_API_URL: z.url().default("https://a.klaviyo.com"),
    MAILCHIMP_API_URL: z.url().optional(),
    // Demo mode only: the demo's fake Shopify Admin API (demo/fakes/shopify.ts), standing in
    // for https://<demo shop>; a real shop is reached through its session (shopify.server.ts).
    SHOPIFY_ADMIN_API_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
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
    // Production must be able to seal destination keys from its first connect; elsewhere a
    // missing key only refuses connecting a destination, with the variable named.
    if (env.NODE_ENV === "production" && !env.TENURE_ENCRYPTION_KEY) {
      ctx.addIssue({ code: "custom", path: ["TENURE_ENCRYPTION_KEY"], message: `is required when NODE_ENV=production (${ENCRYPTION_KEY_FORMAT})` });
    }
    if (env.SHOPIFY_ADMIN_API_URL && !env.TENURE_DEMO_MODE) {
      ctx.addIssue({
        code: "custom",
        path: ["SHOPIFY_ADMIN_API_URL"],
        message: "is for demo mode only (TENURE_DEMO_MODE=true): outside it, each shop's Admin API is reached with the shop's own session",
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
