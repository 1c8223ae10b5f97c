-- A durable "full pass wanted" on each destination (issue 14 review H1): set in the same
-- transaction as the change that needs it (segments, consent scope, connect, resume, a new
-- audience, a refit), cleared by a full pass only if unchanged since that pass read it. The
-- sweep enqueues a full pass for every active destination where it is set, so a lost job,
-- a paused destination or Redis being down never loses a full pass.
ALTER TABLE "Destination" ADD COLUMN "fullWantedAt" TIMESTAMP(3);
ALTER TABLE "Destination" ADD COLUMN "fullWantedReason" TEXT; -- 'initial' | 'refit' | 'manual' | 'settings'
