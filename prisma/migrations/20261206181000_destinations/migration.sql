-- Destinations (issue 14): email tools that receive a shop's segments (Klaviyo, Mailchimp),
-- one outbox for every destination (app/destinations/README.md).

-- One connected email tool per shop and kind. The API key is sealed with AES-256-GCM under
-- TENURE_ENCRYPTION_KEY (app/destinations/secrets.server.ts) and never leaves the server.
CREATE TABLE "Destination" (
  "id" BIGSERIAL PRIMARY KEY,
  "shop" TEXT NOT NULL,
  "kind" TEXT NOT NULL, -- 'klaviyo' | 'mailchimp'
  "status" TEXT NOT NULL DEFAULT 'active', -- 'active' | 'paused' (a revoked or invalid key: see notice)
  "notice" TEXT, -- why the sync is paused, in the merchant's words
  "sealedCredentials" TEXT NOT NULL, -- v1:<key id>:<iv>:<tag>:<ciphertext> (base64url parts)
  "account" JSONB NOT NULL DEFAULT '{}', -- public facts: account name, Mailchimp data centre, audience id and name
  "consentScope" TEXT NOT NULL DEFAULT 'subscribed', -- 'subscribed' (default) | 'all' (the merchant asked for everyone)
  "connectedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Destination_shop_kind_key" ON "Destination"("shop", "kind");

-- The segments a destination receives: an RFM or behavioural segment key, and the remote
-- list (Klaviyo list id) or tag (Mailchimp tag / static segment id) once created.
CREATE TABLE "DestinationSegment" (
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "segmentKey" TEXT NOT NULL,
  "remoteId" TEXT,
  "remoteName" TEXT,
  "addedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY ("destinationId", "segmentKey")
);

-- What the destination holds for each customer Tenure sent: the segments it is a member of
-- there, the hash of the last profile sent, and the remote profile id once known.
CREATE TABLE "DestinationMember" (
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "customerId" BIGINT NOT NULL,
  "email" TEXT NOT NULL,
  "remoteProfileId" TEXT,
  "segments" TEXT[] NOT NULL DEFAULT '{}',
  "syncedHash" TEXT,
  "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY ("destinationId", "customerId")
);

-- The outbox: customers whose profile or segments may have changed since the destination
-- last received them. A row leaves only when the destination has the customer's current
-- state (or a permanent per-profile failure was recorded), so no change is ever dropped.
CREATE TABLE "DestinationOutbox" (
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "customerId" BIGINT NOT NULL,
  "changedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY ("destinationId", "customerId")
);
CREATE INDEX "DestinationOutbox_destinationId_changedAt_idx" ON "DestinationOutbox"("destinationId", "changedAt");

-- One sync pass: initial (first time a segment is chosen), full (after a refit or on
-- "sync now": every customer compared with what the destination holds) or changes (the outbox).
CREATE TABLE "DestinationRun" (
  "id" BIGSERIAL PRIMARY KEY,
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "kind" TEXT NOT NULL, -- 'initial' | 'full' | 'changes'
  "status" TEXT NOT NULL DEFAULT 'running', -- 'running' | 'done' | 'failed' | 'paused'
  "total" INTEGER, -- customers to compare: the progress bar's 100 %
  "compared" INTEGER NOT NULL DEFAULT 0,
  "sent" INTEGER NOT NULL DEFAULT 0,
  "failed" INTEGER NOT NULL DEFAULT 0,
  "leftOut" INTEGER NOT NULL DEFAULT 0, -- in a synced segment but not sent: no email, or not subscribed
  "error" TEXT,
  "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "finishedAt" TIMESTAMP(3)
);
CREATE INDEX "DestinationRun_destinationId_startedAt_idx" ON "DestinationRun"("destinationId", "startedAt");

-- A profile the destination refused, with its reason (Klaviyo's import error, Mailchimp's
-- per-member error), for the merchant to see.
CREATE TABLE "DestinationFailure" (
  "id" BIGSERIAL PRIMARY KEY,
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "runId" BIGINT REFERENCES "DestinationRun"("id") ON DELETE CASCADE,
  "customerId" BIGINT,
  "email" TEXT,
  "reason" TEXT NOT NULL,
  "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "DestinationFailure_destinationId_at_idx" ON "DestinationFailure"("destinationId", "at");

-- A redacted customer's deletion still to be requested from a destination. The email and
-- remote id are kept only until the destination confirmed the request.
CREATE TABLE "DestinationErasure" (
  "id" BIGSERIAL PRIMARY KEY,
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "customerId" BIGINT NOT NULL,
  "email" TEXT NOT NULL,
  "remoteProfileId" TEXT,
  "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "lastError" TEXT
);
CREATE INDEX "DestinationErasure_destinationId_idx" ON "DestinationErasure"("destinationId");
