import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { survivingConnectionLoss } from "./db/pg.server";
import { env } from "./env.server";

export function createPrismaClient(databaseUrl: string): PrismaClient {
  // Prisma's own pool, given to the adapter so its lost connections are survived too
  // (survivingConnectionLoss); $disconnect ends it.
  const pool = survivingConnectionLoss(new pg.Pool({ connectionString: databaseUrl, max: 10 }), "database (Prisma)");
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
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
