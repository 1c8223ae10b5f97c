import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { env } from "./env.server";

export function createPrismaClient(databaseUrl: string): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: 10 });
  return new PrismaClient({ adapter });
}

declare global {
  // Reused across Vite dev-server reloads so a reload does not leak connection pools.
  var __tenurePrisma: PrismaClient | undefined;
}

let client: PrismaClient | undefined = globalThis.__tenurePrisma;

/** The process-wide Prisma client, created on first use from DATABASE_URL. */
export function db(): PrismaClient {
  if (!client) {
    client = createPrismaClient(env().DATABASE_URL);
    if (env().NODE_ENV !== "production") globalThis.__tenurePrisma = client;
  }
  return client;
}

export default db;
