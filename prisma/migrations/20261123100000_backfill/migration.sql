-- AlterTable
ALTER TABLE "Shop" ADD COLUMN "reconciledAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "BackfillRun" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "bulkOperationId" TEXT,
    "status" TEXT NOT NULL,
    "url" TEXT,
    "linesProcessed" INTEGER NOT NULL DEFAULT 0,
    "ordersProcessed" INTEGER NOT NULL DEFAULT 0,
    "expectedCount" INTEGER,
    "notice" TEXT,
    "error" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BackfillRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "BackfillRun_bulkOperationId_key" ON "BackfillRun"("bulkOperationId");

-- CreateIndex
CREATE INDEX "BackfillRun_shop_startedAt_idx" ON "BackfillRun"("shop", "startedAt");
