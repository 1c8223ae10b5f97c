-- Issue 13 changed what the stored figures mean: revenue is net sales by default, and
-- predictions are stored in revenue (a fit stored before applied the shop's margin). Every
-- shop's metrics rows stay in the old basis until its next refit, so each fit is marked as
-- changed long ago: the next live recompute's debounce asks for the refit at once (its
-- "waited" case, app/refit/debounce.ts), and the nightly refit reaches a shop with no change.
UPDATE "ShopFit" SET "changesSinceFit" = GREATEST("changesSinceFit", 1), "firstChangeAt" = TIMESTAMP '1970-01-01 00:00:00';
