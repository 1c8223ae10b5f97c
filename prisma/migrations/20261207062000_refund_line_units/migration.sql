-- A refund stored before its order's version (issue 17, cost of goods; docs/analytics/revenue.md,
-- "Returns"): each refund keeps the units it returned per order line, and each order line the
-- units and net sales of the order version it came with, so the lines' kept units are derived
-- (version less the refunds created after that version's updated_at) whichever arrived first.

ALTER TABLE "Refund"
  ADD COLUMN "lineUnits" JSONB; -- {"<line item id>": units returned}; NULL: the source did not list them (Admin GraphQL)

ALTER TABLE "OrderLine"
  ADD COLUMN "versionQuantity" INTEGER, -- the units of the stored order version (current_quantity); NULL: stored before this column (kept is the base)
  ADD COLUMN "versionNetSalesMinor" BIGINT, -- their net sales; NULL as above
  ADD COLUMN "versionAt" TIMESTAMP(3); -- that version's updated_at: refunds created after it are taken off; NULL as above
