import { describe, expect, it } from "vitest";
import { segmentName } from "~/display/segment-names";
import { testDb, uniqueShop } from "../support/db";
import { deliverWebhook, fittedShopOnKlaviyo, klaviyoWorkersHarness, outboxOf } from "../support/destinations";
import { waitFor } from "../support/wait-for";
import { fixture } from "../support/webhook-fixtures";
import { consentPayload, orderPayload } from "../support/webhook-payloads";

// Since API 2025-01 an unsubscribe reaches Tenure by customers_email_marketing_consent/update,
// not in customers/update. Through the real workers: the intake's row, the ingest worker's
// consent write, the live recompute marking the outbox, the destinations pass and the real
// Klaviyo adapter against the fake, which must end with the customer out of every list.

const KEY = "pk_test_consent_topics";
const harness = klaviyoWorkersHarness("tenure-test-consent-topics");

describe("the consent topics and a synced Klaviyo list", () => {
  it("customers_email_marketing_consent/update with an unsubscribe takes the customer out of every list; the outbox drains", async () => {
    const shop = uniqueShop("consent-topic");
    const destination = await fittedShopOnKlaviyo(shop, KEY);
    const fake = harness.fake();
    await harness.start();

    const now = new Date();
    const customerId = 778;
    const email = "topic-buyer-778@example.com";
    await deliverWebhook(shop, "orders/create", orderPayload({ id: 5_000_778, customerId, customerEmail: email, totalCents: 9_900, processedAt: now, createdAt: now, updatedAt: now }));
    const firstTimeBuyers = `Tenure: ${segmentName("first-time-buyer")}`;
    await waitFor(async () => fake.state.listMembers(firstTimeBuyers, KEY).includes(email), 30_000, "the customer in Klaviyo's first-time buyers list");

    const stored = () => testDb().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: BigInt(customerId) } }, select: { emailConsentState: true } });
    expect((await stored()).emailConsentState).toBe("SUBSCRIBED");

    const later = new Date(now.getTime() + 60_000);
    await deliverWebhook(shop, "customers_email_marketing_consent/update", {
      ...fixture("customers-email-marketing-consent-update"),
      customer_id: customerId,
      email_address: email,
      email_marketing_consent: consentPayload("unsubscribed", later, "single_opt_in"),
    });
    await waitFor(async () => [...fake.state.lists(KEY)].every(([, members]) => !members.includes(email)), 30_000, "the customer out of every list");
    await waitFor(async () => (await outboxOf(destination.id)).length === 0, 10_000, "the outbox drained");
    expect((await stored()).emailConsentState).toBe("UNSUBSCRIBED");
    // Leaving a list is not an unsubscribe in Klaviyo (Tenure never changes subscriptions): the profile stays.
    expect(fake.state.profile(email, KEY)?.external_id).toBe(String(customerId));
  });
});
