-- Search customers by name or email (issue 13): the customer tables match the start of the
-- email, the last name or the full name, in any case. One btree per form, text_pattern_ops
-- so that a prefix LIKE uses it whatever the database's collation; no extension needed
-- (pg_trgm would find infixes too, but is not in every PostgreSQL we run on). The summary
-- columns the ingest path rewrites are in none of them, so those updates stay HOT
-- (20261124000000_customer_summary_writes).
CREATE INDEX "Customer_shop_email_search_idx" ON "Customer" ("shop", lower("email") text_pattern_ops);
CREATE INDEX "Customer_shop_lastName_search_idx" ON "Customer" ("shop", lower("lastName") text_pattern_ops);
CREATE INDEX "Customer_shop_fullName_search_idx"
  ON "Customer" ("shop", lower(coalesce("firstName", '') || ' ' || coalesce("lastName", '')) text_pattern_ops);
