import type { PrismaClient } from "@prisma/client";
import { afterAll } from "vitest";
import { createPrismaClient } from "../../app/db.server";

let client: PrismaClient | undefined;

/** A Prisma client on this worker's own test database (see tests/support/setup-env.ts). */
export function testDb(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: is tests/support/setup-env.ts loaded?");
  client ??= createPrismaClient(url);
  return client;
}

afterAll(async () => {
  await client?.$disconnect();
  client = undefined;
});

let counter = 0;
/** A shop domain no other test uses: tests isolate by tenant, as the app does. */
export function uniqueShop(label = "shop"): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}.myshopify.com`;
}
