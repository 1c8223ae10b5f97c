-- Live customer metrics, the shop's fit, segment history and precomputed aggregates.

-- CreateTable
CREATE TABLE "ShopSettings" (
    "shop" TEXT NOT NULL,
    "grossMargin" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "cacMinor" BIGINT,
    "annualDiscountRate" DOUBLE PRECISION NOT NULL DEFAULT 0.1,
    "horizonDays" INTEGER NOT NULL DEFAULT 365,
    "segmentRules" JSONB,
    "segmentLabels" JSONB,
    "excludedOrderTags" TEXT[],
    "excludedSourceNames" TEXT[],
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ShopSettings_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "ShopFit" (
    "shop" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL,
    "reasonCode" TEXT,
    "reason" TEXT,
    "model" JSONB,
    "rfmCuts" JSONB,
    "behaviourThresholds" JSONB,
    "segmentRules" JSONB NOT NULL,
    "asOfDay" INTEGER NOT NULL,
    "customers" INTEGER NOT NULL DEFAULT 0,
    "orders" INTEGER NOT NULL DEFAULT 0,
    "trigger" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "error" TEXT,
    "changesSinceFit" INTEGER NOT NULL DEFAULT 0,
    "firstChangeAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ShopFit_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "CustomerMetrics" (
    "shop" TEXT NOT NULL,
    "customerId" BIGINT NOT NULL,
    "orders" INTEGER NOT NULL,
    "netSpentMinor" BIGINT NOT NULL,
    "aovMinor" BIGINT,
    "discountedOrders" INTEGER NOT NULL DEFAULT 0,
    "firstOrderDay" DATE,
    "lastOrderDay" DATE,
    "recencyDays" INTEGER,
    "rScore" INTEGER,
    "fScore" INTEGER,
    "mScore" INTEGER,
    "segment" TEXT,
    "behaviours" TEXT[],
    "pAlive" DOUBLE PRECISION,
    "expectedPurchases90d" DOUBLE PRECISION,
    "expectedPurchases365d" DOUBLE PRECISION,
    "expectedOrderValueMinor" BIGINT,
    "predictedClvMinor" BIGINT,
    "expectedNextOrderDay" DATE,
    "modelVersion" INTEGER,
    "asOfDay" INTEGER NOT NULL,
    "computedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CustomerMetrics_pkey" PRIMARY KEY ("shop","customerId")
);

-- CreateTable
CREATE TABLE "SegmentTransition" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "customerId" BIGINT NOT NULL,
    "fromSegment" TEXT,
    "toSegment" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,

    CONSTRAINT "SegmentTransition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SegmentDailyCount" (
    "shop" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "kind" TEXT NOT NULL,
    "segment" TEXT NOT NULL,
    "customers" INTEGER NOT NULL,
    "netSpentMinor" BIGINT NOT NULL,
    "predictedClvMinor" BIGINT,

    CONSTRAINT "SegmentDailyCount_pkey" PRIMARY KEY ("shop","day","kind","segment")
);

-- CreateTable
CREATE TABLE "ShopAggregate" (
    "shop" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "asOfDay" INTEGER NOT NULL,
    "modelVersion" INTEGER,
    "data" JSONB NOT NULL,
    "computedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ShopAggregate_pkey" PRIMARY KEY ("shop","kind")
);

-- CreateIndex
CREATE INDEX "CustomerMetrics_shop_segment_netSpentMinor_idx" ON "CustomerMetrics"("shop", "segment", "netSpentMinor");
CREATE INDEX "CustomerMetrics_shop_segment_predictedClvMinor_idx" ON "CustomerMetrics"("shop", "segment", "predictedClvMinor");
CREATE INDEX "CustomerMetrics_shop_netSpentMinor_idx" ON "CustomerMetrics"("shop", "netSpentMinor");
CREATE INDEX "CustomerMetrics_shop_predictedClvMinor_idx" ON "CustomerMetrics"("shop", "predictedClvMinor");
CREATE INDEX "CustomerMetrics_shop_lastOrderDay_idx" ON "CustomerMetrics"("shop", "lastOrderDay");
CREATE INDEX "CustomerMetrics_shop_pAlive_idx" ON "CustomerMetrics"("shop", "pAlive");
CREATE INDEX "SegmentTransition_shop_at_idx" ON "SegmentTransition"("shop", "at");
CREATE INDEX "SegmentTransition_shop_customerId_at_idx" ON "SegmentTransition"("shop", "customerId", "at");
