// This worker's own test database (see tests/support/setup-env.ts): a Prisma client and a
// pg pool on it, shop domains no other test uses, deliveries stored as the intake stores
// them, and a snapshot of a shop's rows to compare runs.
import { Prisma, type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { afterAll } from "vitest";
import { createPrismaClient } from "../../app/db.server";
import { readShopAdmission } from "~/data/shop-admission.server";
import { type ShopInstallRow, installShop as installShopRow } from "~/data/shop.server";
import { createPgPool } from "~/db/pg.server";

let client: PrismaClient | undefined;

/** A Prisma client on this worker's own test database (see tests/support/setup-env.ts). */
export function testDb(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: is tests/support/setup-env.ts loaded?");
  client ??= createPrismaClient(url);
  return client;
}

let pool: pg.Pool | undefined;

/** A pg pool on this worker's test database (the raw-SQL side of the app). */
export function testPool(): pg.Pool {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: is tests/support/setup-env.ts loaded?");
  pool ??= createPgPool(url, { max: 8 });
  return pool;
}

afterAll(async () => {
  await client?.$disconnect();
  client = undefined;
  await pool?.end();
  pool = undefined;
});

let counter = 0;
/** A shop domain no other test uses: tests isolate by tenant, as the app does. */
export function uniqueShop(label = "shop"): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}.myshopify.com`;
}

/**
 * Installs the shop as the auth flow does (installShop, data/shop.server.ts), so its
 * deliveries are admitted (ADR 0013); reinstalls an uninstalled or redacted one. Returns it.
 */
export async function installShop(shop: string, settings: Partial<Omit<ShopInstallRow, "shop">> = {}): Promise<string> {
  await installShopRow(testPool(), shop, settings);
  return shop;
}

/** uniqueShop(), installed. */
export async function installedShop(label = "shop"): Promise<string> {
  return installShop(uniqueShop(label));
}

let webhookCounter = 0;

export interface DeliveryInput {
  shop: string;
  topic: string;
  payload: unknown;
  webhookId?: string;
  receivedAt?: Date;
  triggeredAt?: Date;
  /**
   * Default true: a shop the database has never seen (no row, no redaction) is installed
   * first, as the intake admits only known shops. false stores it for a shop as it stands.
   */
  install?: boolean;
}

/** Stores a delivery the way the intake route does (the route itself is tested elsewhere). */
export async function insertDelivery(db: PrismaClient, input: DeliveryInput): Promise<bigint> {
  if (input.install !== false && (await readShopAdmission(testPool(), input.shop)) === "unknown") await installShop(input.shop);
  webhookCounter += 1;
  const row = await db.webhookDelivery.create({
    data: {
      shop: input.shop,
      topic: input.topic,
      webhookId: input.webhookId ?? `wh-${process.pid}-${Date.now()}-${webhookCounter}`,
      apiVersion: "2025-10",
      payload: input.payload === null ? Prisma.DbNull : (input.payload as Prisma.InputJsonValue),
      receivedAt: input.receivedAt,
      triggeredAt: input.triggeredAt,
    },
  });
  return row.id;
}

/**
 * A shop's order, customer, refund and tombstone rows, minus bookkeeping timestamps
 * (summaryAt, deletedAt) that record when a write happened, not what it wrote.
 */
export async function snapshot(db: PrismaClient, shop: string) {
  const [orders, customers, refunds, tombstones] = await Promise.all([
    db.order.findMany({ where: { shop }, orderBy: { id: "asc" } }),
    db.customer.findMany({ where: { shop }, orderBy: { id: "asc" }, omit: { summaryAt: true } }),
    db.refund.findMany({ where: { shop }, orderBy: { id: "asc" } }),
    db.tombstone.findMany({ where: { shop }, orderBy: [{ resource: "asc" }, { id: "asc" }], omit: { deletedAt: true } }),
  ]);
  const strip = <T extends { shop: string }>(rows: T[]) => rows.map(({ shop: _shop, ...rest }) => rest);
  return { orders: strip(orders), customers: strip(customers), refunds: strip(refunds), tombstones: strip(tombstones) };
}

/**
 * A snapshot with refunds reduced to their totals: a refund imported over GraphQL (bulk
 * backfill, reconciliation) carries its total only, its split by part being already in the
 * order's parts (docs/analytics/revenue.md), and no units per line (Refund.lineUnits), so it is
 * compared with the webhook path's on that.
 */
export function refundTotalsOnly<T extends { refunds: object[] }>(snap: T): T {
  return { ...snap, refunds: snap.refunds.map((refund) => ({ ...refund, returnsMinor: null, taxMinor: null, shippingMinor: null, dutiesMinor: null, lineUnits: null })) };
}

/**
 * A snapshot without the marketing source's provenance flag: only the GraphQL sources (bulk
 * import, reconciliation) carry the customer journey, so marketingSourceFromJourney differs
 * from the webhooks' by construction; the source itself must agree.
 */
export function withoutSourceProvenance<T extends { orders: object[] }>(snap: T): T {
  return { ...snap, orders: snap.orders.map((order) => ({ ...order, marketingSourceFromJourney: null })) };
}

/** A snapshot as the GraphQL sources and the webhooks can both give it: refund totals, no source provenance. */
export function comparableAcrossSources<T extends { orders: object[]; refunds: object[] }>(snap: T): T {
  return withoutSourceProvenance(refundTotalsOnly(snap));
}
