-- Marketing consent (issue 14): each customer's email and SMS marketing consent as Shopify
-- states it (Customer.emailMarketingConsent / smsMarketingConsent in the Admin GraphQL API,
-- email_marketing_consent / sms_marketing_consent in customer webhooks). States are stored
-- in GraphQL's enum spelling (SUBSCRIBED, NOT_SUBSCRIBED, UNSUBSCRIBED, PENDING, REDACTED,
-- INVALID); null: Shopify never said (never asked, or a row written before this migration).
-- Exports and destination syncs send only SUBSCRIBED customers unless the merchant asks for all.
ALTER TABLE "Customer" ADD COLUMN "emailConsentState" TEXT;
ALTER TABLE "Customer" ADD COLUMN "emailOptInLevel" TEXT;
ALTER TABLE "Customer" ADD COLUMN "emailConsentUpdatedAt" TIMESTAMP(3);
ALTER TABLE "Customer" ADD COLUMN "smsConsentState" TEXT;
ALTER TABLE "Customer" ADD COLUMN "smsOptInLevel" TEXT;
ALTER TABLE "Customer" ADD COLUMN "smsConsentUpdatedAt" TIMESTAMP(3);
