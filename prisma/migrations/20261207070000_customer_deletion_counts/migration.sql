-- Customer deletions counted per shop, and the count each destination run started from
-- (ADR 0022, task K6). Every path that deletes Customer rows (customers/delete,
-- customers/redact) adds one in its transaction; a pass's commit whose run began at the
-- count still current knows that no customer of the shop was deleted since any of its reads,
-- and inserts its first writes without probing each customer's row. Raw SQL only (app/data/
-- destinations.server.ts); schema.prisma has the table and the column too.
CREATE TABLE "ShopCustomerDeletions" (
  shop TEXT PRIMARY KEY,
  deletions BIGINT NOT NULL
);

-- null: a run started before the count existed (its first writes are probed).
ALTER TABLE "DestinationRun" ADD COLUMN "customerDeletionsAtStart" BIGINT;
