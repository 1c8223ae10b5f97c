import { type ShopAdmission, readShopAdmission } from "~/data/shop-admission.server";
import { type Queryable } from "~/db/pg.server";
import { DATA_TOPICS, type Topic } from "./topics";

// Which deliveries a shop's state admits (ADR 0013), and the intake's small cache of that
// state. The intake drops what is not admitted before storing it; the processing
// re-checks under the delivery's lock (lockDelivery), since this cache may be seconds old.

export const DROP_REASONS = {
  redacted: "shop redacted",
  unknown: "shop never installed",
  uninstalled: "shop uninstalled",
} as const;

/**
 * Why a delivery of `topic` is not applied for a shop in this state, or null when it is.
 * Nothing is applied for a redacted or never-installed shop; an uninstalled one still gets
 * its compliance and app/* topics (shop/redact comes after the uninstall).
 */
export function dropReason(admission: ShopAdmission, topic: Topic | string): string | null {
  if (admission === "redacted" || admission === "unknown") return DROP_REASONS[admission];
  if (admission === "uninstalled" && DATA_TOPICS.has(topic as Topic)) return DROP_REASONS.uninstalled;
  return null;
}

interface Entry {
  admission: ShopAdmission;
  expiresAt: number;
}

export interface AdmissionCacheOptions {
  /** How long a verdict is reused: a new install is seen within this (ADR 0013). */
  ttlMs?: number;
  /** Shops remembered at most: random shop names cannot grow memory past this. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Shop admission with positive and negative entries, each kept `ttlMs`. A miss is one
 * primary-key query; concurrent misses for one shop share it.
 */
export class ShopAdmissionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<ShopAdmission>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: AdmissionCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async admission(db: Queryable, shop: string): Promise<ShopAdmission> {
    const cached = this.entries.get(shop);
    if (cached && cached.expiresAt > this.now()) return cached.admission;
    const pending = this.inFlight.get(shop);
    if (pending) return pending;
    const lookup = readShopAdmission(db, shop)
      .then((admission) => {
        this.remember(shop, admission);
        return admission;
      })
      .finally(() => this.inFlight.delete(shop));
    this.inFlight.set(shop, lookup);
    return lookup;
  }

  private remember(shop: string, admission: ShopAdmission): void {
    this.entries.delete(shop);
    // Map keeps insertion order: the first key is the oldest entry.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(shop, { admission, expiresAt: this.now() + this.ttlMs });
  }
}

/**
 * Deliveries for never-installed shops, counted in the process only: they are not verified
 * (their bodies are never read), so they must not cost a database write. Logged at most
 * once a minute.
 */
export class UnknownShopDrops {
  private pending = 0;
  private example = "";
  private lastLoggedAt = 0;
  total = 0;

  constructor(
    private readonly log: (line: string) => void = (line) => console.warn(line),
    private readonly now: () => number = Date.now,
    private readonly everyMs = 60_000,
  ) {}

  record(shop: string, topic: string): void {
    this.total += 1;
    this.pending += 1;
    this.example ||= `${topic} for ${shop}`;
    const now = this.now();
    if (now - this.lastLoggedAt < this.everyMs) return;
    this.log(`tenure: acknowledged and dropped ${this.pending} webhook deliveries for shops never installed (e.g. ${this.example}); ${this.total} since start`);
    this.lastLoggedAt = now;
    this.pending = 0;
    this.example = "";
  }
}
