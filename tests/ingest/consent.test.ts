import { describe, expect, it } from "vitest";
import { processDelivery } from "~/ingest/deliveries.server";
import { type OrderBundle, mapCustomerPayload, mapEmailConsentPayload, mapOrderPayload, mapSmsConsentPayload } from "~/ingest/mappers";
import { upsertCustomer, upsertCustomerConsent, upsertOrder } from "~/ingest/upsert.server";
import { upsertOrdersBatch } from "~/ingest/upsert-batch.server";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { insertDelivery, snapshot, testDb, uniqueShop } from "../support/db";
import { fixture, type Json } from "../support/webhook-fixtures";
import { at, consentPayload, customerPayload, orderPayload, withConsent } from "../support/webhook-payloads";

// Marketing consent (issue 14, section 1) through the one write path on real PostgreSQL:
// every source stores it, a source that says nothing erases none, each channel's latest
// consent change stands whatever the arrival order, and a redaction leaves none of it.

const db = () => testDb();
const MAYA = 7390571233329n;

async function deliver(shop: string, topic: string, payload: unknown) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  return { id, outcome: await processDelivery(db(), id) };
}

async function consentOf(shop: string, id: bigint) {
  return db().customer.findUniqueOrThrow({
    where: { shop_id: { shop, id } },
    select: {
      emailConsentState: true, emailOptInLevel: true, emailConsentUpdatedAt: true,
      smsConsentState: true, smsOptInLevel: true, smsConsentUpdatedAt: true,
    },
  });
}

const SUBSCRIBED_AT = at("2025-01-10T09:00:00Z");
const UNSUBSCRIBED_AT = at("2025-02-20T09:00:00Z");

describe("consent from each source", () => {
  it("customers/update stores both channels in GraphQL's spelling", async () => {
    const shop = uniqueShop();
    const payload = withConsent(fixture("customers-update"), {
      smsConsent: { ...consentPayload("subscribed", SUBSCRIBED_AT, "confirmed_opt_in"), consent_collected_from: "SHOPIFY" },
    });
    expect((await deliver(shop, "customers/update", payload)).outcome.status).toBe("processed");
    expect(await consentOf(shop, MAYA)).toEqual({
      emailConsentState: "SUBSCRIBED", emailOptInLevel: "SINGLE_OPT_IN", emailConsentUpdatedAt: at("2024-11-02T13:14:33Z"),
      smsConsentState: "SUBSCRIBED", smsOptInLevel: "CONFIRMED_OPT_IN", smsConsentUpdatedAt: SUBSCRIBED_AT,
    });
  });

  it("an order's embedded customer stores its consent", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/create", orderPayload({ id: 1, customerId: 10, updatedAt: at("2025-03-01T00:00:00Z"), totalCents: 1_000, emailConsent: consentPayload("unsubscribed", UNSUBSCRIBED_AT, "single_opt_in") }));
    expect(await consentOf(shop, 10n)).toMatchObject({ emailConsentState: "UNSUBSCRIBED", emailOptInLevel: "SINGLE_OPT_IN", emailConsentUpdatedAt: UNSUBSCRIBED_AT, smsConsentState: null });
  });

  it("the consent topics store one channel each, leave the profile alone, and a replay writes nothing", async () => {
    const shop = uniqueShop();
    await deliver(shop, "customers/create", fixture("customers-create"));
    const profile = await db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: MAYA } } });
    const email = await upsertCustomerConsent(db(), shop, mapEmailConsentPayload(fixture("customers-email-marketing-consent-update")));
    const sms = await upsertCustomerConsent(db(), shop, mapSmsConsentPayload(fixture("customers-marketing-consent-update")));
    expect(email).toMatchObject({ changed: true, affectedCustomerIds: [MAYA] });
    expect(sms).toMatchObject({ changed: true, affectedCustomerIds: [MAYA] });
    const after = await db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: MAYA } } });
    expect(after).toMatchObject({
      email: profile.email, tags: profile.tags, shopifyUpdatedAt: profile.shopifyUpdatedAt,
      emailConsentState: "UNSUBSCRIBED", emailOptInLevel: "SINGLE_OPT_IN", emailConsentUpdatedAt: at("2025-04-02T12:30:11Z"),
      smsConsentState: "SUBSCRIBED", smsOptInLevel: "CONFIRMED_OPT_IN", smsConsentUpdatedAt: at("2025-04-05T23:02:45Z"),
    });
    const replay = await upsertCustomerConsent(db(), shop, mapEmailConsentPayload(fixture("customers-email-marketing-consent-update")));
    expect(replay).toMatchObject({ changed: false, affectedCustomerIds: [] });
  });

  it("a consent topic before the customer's profile: a placeholder holds the consent, the profile completes it", async () => {
    const shop = uniqueShop();
    await upsertCustomerConsent(db(), shop, mapEmailConsentPayload(fixture("customers-email-marketing-consent-update")));
    await deliver(shop, "customers/create", fixture("customers-create"));
    expect(await db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: MAYA } } })).toMatchObject({
      email: "maya.okafor@example.com",
      // The profile's own consent (subscribed in 2024) is older than the unsubscription.
      emailConsentState: "UNSUBSCRIBED",
      emailConsentUpdatedAt: at("2025-04-02T12:30:11Z"),
    });
  });

  it("the batched path (backfill, reconciliation) leaves what the one-by-one path leaves", async () => {
    const [oneByOne, batched] = [uniqueShop("one"), uniqueShop("batch")];
    // Copies of customer 20 whose newest profile carries the oldest consent, and one without any.
    const copies = [
      { updatedAt: "2025-03-05T00:00:00Z", emailConsent: consentPayload("subscribed", SUBSCRIBED_AT) as Json | "absent" },
      { updatedAt: "2025-03-03T00:00:00Z", emailConsent: consentPayload("unsubscribed", UNSUBSCRIBED_AT) as Json | "absent" },
      { updatedAt: "2025-03-09T00:00:00Z", emailConsent: "absent" as const },
    ];
    const bundles: OrderBundle[] = copies.map((copy, i) =>
      mapOrderPayload(orderPayload({ id: 100 + i, customerId: 20, updatedAt: at(copy.updatedAt), customerUpdatedAt: at(copy.updatedAt), totalCents: 2_000, emailConsent: copy.emailConsent, smsConsent: consentPayload("not_subscribed", null) })),
    );
    for (const bundle of bundles) await upsertOrder(db(), oneByOne, bundle);
    await pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, batched, bundles));
    const expected = await snapshot(db(), oneByOne);
    expect(expected.customers[0]).toMatchObject({ shopifyUpdatedAt: at("2025-03-09T00:00:00Z"), emailConsentState: "UNSUBSCRIBED", smsConsentState: "NOT_SUBSCRIBED", smsConsentUpdatedAt: null });
    expect(await snapshot(db(), batched)).toEqual(expected);
  });
});

describe("consent: newest wins, order-free", () => {
  const sources = () => [
    // The profile at t1 subscribed; its newer copy at t3 (an order's embedded customer) says nothing.
    (shop: string) => upsertCustomer(db(), shop, mapCustomerPayload(customerPayload(30, at("2025-03-01T00:00:00Z"), { email_marketing_consent: consentPayload("subscribed", SUBSCRIBED_AT) }))),
    (shop: string) => upsertOrder(db(), shop, mapOrderPayload(orderPayload({ id: 300, customerId: 30, updatedAt: at("2025-03-03T00:00:00Z"), customerUpdatedAt: at("2025-03-03T00:00:00Z"), totalCents: 1_500, emailConsent: "absent", smsConsent: "absent" }))),
    // The unsubscription, from the consent topic (no profile clock at all).
    (shop: string) => upsertCustomerConsent(db(), shop, { customerId: 30n, channel: "email", consent: { state: "UNSUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: UNSUBSCRIBED_AT } }),
    // An older copy of the profile (t0), subscribed at the same time as the t1 copy.
    (shop: string) => upsertCustomer(db(), shop, mapCustomerPayload(customerPayload(30, at("2025-02-01T00:00:00Z"), { email_marketing_consent: consentPayload("subscribed", SUBSCRIBED_AT) }))),
  ];
  const orders = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 2, 0, 3], [2, 0, 3, 1], [1, 3, 0, 2]];

  it.each(orders.map((order) => [order.join(",")]))("every arrival order ends in the same rows (%s)", async (order) => {
    const reference = uniqueShop("ref");
    for (const apply of sources()) await apply(reference);
    const expected = await snapshot(db(), reference);
    expect(expected.customers[0]).toMatchObject({
      email: "customer-30@example.com",
      shopifyUpdatedAt: at("2025-03-03T00:00:00Z"),
      emailConsentState: "UNSUBSCRIBED",
      emailConsentUpdatedAt: UNSUBSCRIBED_AT,
    });
    const shop = uniqueShop("perm");
    for (const index of order.split(",").map(Number)) await sources()[index](shop);
    expect(await snapshot(db(), shop)).toEqual(expected);
  });

  it("a newer profile without consent keeps the stored consent; a resubscription later than the unsubscription stands", async () => {
    const shop = uniqueShop();
    await upsertCustomer(db(), shop, mapCustomerPayload(customerPayload(31, at("2025-03-01T00:00:00Z"), { email_marketing_consent: consentPayload("unsubscribed", UNSUBSCRIBED_AT, "single_opt_in") })));
    const silent = customerPayload(31, at("2025-03-05T00:00:00Z"), { first_name: "Samira" });
    delete silent.email_marketing_consent;
    delete silent.sms_marketing_consent;
    expect((await upsertCustomer(db(), shop, mapCustomerPayload(silent))).changed).toBe(true);
    expect(await db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: 31n } } })).toMatchObject({ firstName: "Samira", emailConsentState: "UNSUBSCRIBED" });
    const later = at("2025-03-10T00:00:00Z");
    await upsertCustomerConsent(db(), shop, { customerId: 31n, channel: "email", consent: { state: "SUBSCRIBED", optInLevel: "CONFIRMED_OPT_IN", updatedAt: later } });
    expect(await consentOf(shop, 31n)).toMatchObject({ emailConsentState: "SUBSCRIBED", emailOptInLevel: "CONFIRMED_OPT_IN", emailConsentUpdatedAt: later });
  });

  it("at the stored profile's updated_at: new content with older consent moves the profile only; the same content with newer consent moves the consent only", async () => {
    const shop = uniqueShop();
    const profileAt = at("2025-03-01T00:00:00Z");
    const stored = () => db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: 32n } }, select: { firstName: true, shopifyUpdatedAt: true, emailConsentState: true, emailConsentUpdatedAt: true } });
    await upsertCustomer(db(), shop, mapCustomerPayload(customerPayload(32, profileAt, { first_name: "Ines", email_marketing_consent: consentPayload("unsubscribed", UNSUBSCRIBED_AT, "single_opt_in") })));

    const renamed = customerPayload(32, profileAt, { first_name: "Inès", email_marketing_consent: consentPayload("subscribed", SUBSCRIBED_AT, "single_opt_in") });
    expect((await upsertCustomer(db(), shop, mapCustomerPayload(renamed))).changed).toBe(true);
    expect(await stored()).toEqual({ firstName: "Inès", shopifyUpdatedAt: profileAt, emailConsentState: "UNSUBSCRIBED", emailConsentUpdatedAt: UNSUBSCRIBED_AT });

    const resubscribedAt = at("2025-03-02T00:00:00Z");
    const resubscribed = customerPayload(32, profileAt, { first_name: "Inès", email_marketing_consent: consentPayload("subscribed", resubscribedAt, "single_opt_in") });
    expect((await upsertCustomer(db(), shop, mapCustomerPayload(resubscribed))).changed).toBe(true);
    expect(await stored()).toEqual({ firstName: "Inès", shopifyUpdatedAt: profileAt, emailConsentState: "SUBSCRIBED", emailConsentUpdatedAt: resubscribedAt });
    expect((await upsertCustomer(db(), shop, mapCustomerPayload(resubscribed))).changed).toBe(false);
  });
});

describe("consent: bad input and deleted customers", () => {
  it("a customers/update with an unknown consent state fails with the field named, and the stored consent stays", async () => {
    const shop = uniqueShop();
    await deliver(shop, "customers/update", fixture("customers-update"));
    const before = await consentOf(shop, MAYA);
    const bad = fixture("customers-update");
    bad.updated_at = "2025-05-01T00:00:00Z";
    bad.email_marketing_consent = { state: "opted_out", opt_in_level: null, consent_updated_at: "2025-05-01T00:00:00Z" };
    const { id, outcome } = await deliver(shop, "customers/update", bad);
    expect(outcome.status).toBe("failed");
    const delivery = await db().webhookDelivery.findUniqueOrThrow({ where: { id } });
    expect(delivery.status).toBe("FAILED");
    expect(delivery.error).toMatch(/email_marketing_consent\.state/);
    expect(delivery.payload).not.toBeNull(); // kept, to be replayed once understood
    expect(await consentOf(shop, MAYA)).toEqual(before);
  });

  it("a consent topic for a deleted customer brings nothing back", async () => {
    const shop = uniqueShop();
    await deliver(shop, "customers/create", fixture("customers-create"));
    await deliver(shop, "customers/delete", fixture("customers-delete"));
    const result = await upsertCustomerConsent(db(), shop, mapEmailConsentPayload(fixture("customers-email-marketing-consent-update")));
    expect(result).toMatchObject({ changed: false, concernsDeleted: true });
    expect(await db().customer.count({ where: { shop } })).toBe(0);
  });
});

describe("consent and the compliance topics", () => {
  it("customers/data_request exports the customer's consent; customers/redact leaves none of it", async () => {
    const shop = uniqueShop();
    const profile = withConsent(fixture("customers-update"), { smsConsent: consentPayload("subscribed", SUBSCRIBED_AT, "confirmed_opt_in") });
    await deliver(shop, "customers/update", profile);
    await deliver(shop, "orders/create", fixture("orders-create"));
    await deliver(shop, "customers/data_request", { ...fixture("customers-data-request"), shop_domain: shop });
    const [request] = await db().dataRequest.findMany({ where: { shop } });
    expect((request.export as Json).customer).toMatchObject({ emailConsentState: "SUBSCRIBED", emailOptInLevel: "SINGLE_OPT_IN", smsConsentState: "SUBSCRIBED", smsOptInLevel: "CONFIRMED_OPT_IN" });

    await deliver(shop, "customers/redact", { ...fixture("customers-redact"), shop_domain: shop });
    expect(await db().customer.count({ where: { shop, id: MAYA } })).toBe(0);
    expect(await db().dataRequest.count({ where: { shop } })).toBe(0);
    // The stored webhook bodies that carried the consent objects are emptied too.
    const deliveries = await db().webhookDelivery.findMany({ where: { shop, topic: { in: ["customers/update", "orders/create"] } } });
    expect(deliveries.length).toBe(2);
    for (const delivery of deliveries) expect(delivery.payload).toBeNull();
    const leftovers = await db().$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM "WebhookDelivery" WHERE shop = ${shop} AND payload::text ~* 'marketing_consent'`;
    expect(leftovers[0].n).toBe(0n);
  });
});

describe("the consent topics, delivered", () => {
  const EMAIL_TOPIC = "customers_email_marketing_consent/update";
  const SMS_TOPIC = "customers_marketing_consent/update";

  async function deliverCapturing(shop: string, topic: string, payload: unknown) {
    const handedOff: bigint[][] = [];
    const id = await insertDelivery(db(), { shop, topic, payload });
    const outcome = await processDelivery(db(), id, { enqueueMetrics: async (_shop, ids) => void handedOff.push(ids) });
    return { id, outcome, handedOff };
  }

  it("each topic stores its channel's consent and hands the customer to the metrics recompute (which marks the destinations' outbox)", async () => {
    const shop = uniqueShop();
    await deliver(shop, "customers/create", fixture("customers-create"));
    const email = await deliverCapturing(shop, EMAIL_TOPIC, fixture("customers-email-marketing-consent-update"));
    expect(email.outcome.status).toBe("processed");
    expect(email.handedOff).toEqual([[MAYA]]);
    const sms = await deliverCapturing(shop, SMS_TOPIC, fixture("customers-marketing-consent-update"));
    expect(sms.outcome.status).toBe("processed");
    expect(sms.handedOff).toEqual([[MAYA]]);
    expect(await consentOf(shop, MAYA)).toMatchObject({
      emailConsentState: "UNSUBSCRIBED",
      emailOptInLevel: "SINGLE_OPT_IN",
      emailConsentUpdatedAt: at("2025-04-02T12:30:11Z"),
      smsConsentState: "SUBSCRIBED",
      smsOptInLevel: "CONFIRMED_OPT_IN",
      smsConsentUpdatedAt: at("2025-04-05T23:02:45Z"),
    });
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id: email.id } })).customerId).toBe(MAYA);

    // The same statement again changes nothing: no recompute.
    const again = await deliverCapturing(shop, EMAIL_TOPIC, fixture("customers-email-marketing-consent-update"));
    expect(again.outcome.status).toBe("processed");
    expect(again.handedOff).toEqual([]);
  });

  it("a consent topic without its customer id or with an unknown state fails naming the field, and the stored consent stays", async () => {
    const shop = uniqueShop();
    await deliver(shop, "customers/update", fixture("customers-update"));
    const before = await consentOf(shop, MAYA);
    const noId = fixture("customers-email-marketing-consent-update");
    delete noId.customer_id;
    const missing = await deliverCapturing(shop, EMAIL_TOPIC, noId);
    expect(missing.outcome.status).toBe("failed");
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id: missing.id } })).error).toMatch(/customer_id/);
    const badState = fixture("customers-marketing-consent-update");
    (badState.sms_marketing_consent as Json).state = "opted_out";
    const bad = await deliverCapturing(shop, SMS_TOPIC, badState);
    expect(bad.outcome.status).toBe("failed");
    const stored = await db().webhookDelivery.findUniqueOrThrow({ where: { id: bad.id } });
    expect(stored.error).toMatch(/sms_marketing_consent\.state/);
    expect(stored.payload).not.toBeNull();
    expect(await consentOf(shop, MAYA)).toEqual(before);
  });

  it("customers/redact empties pending consent-topic deliveries, found by customer_id, id or email_address", async () => {
    const shop = uniqueShop();
    await deliver(shop, "customers/update", fixture("customers-update"));
    // Not yet processed: no customerId on the row, only the payload names the customer.
    const byCustomerId = await insertDelivery(db(), { shop, topic: EMAIL_TOPIC, payload: fixture("customers-email-marketing-consent-update") });
    const bySmsId = await insertDelivery(db(), { shop, topic: SMS_TOPIC, payload: fixture("customers-marketing-consent-update") });
    const byEmailOnly = await insertDelivery(db(), {
      shop,
      topic: EMAIL_TOPIC,
      payload: { ...fixture("customers-email-marketing-consent-update"), customer_id: 1 },
    });
    const someoneElse = await insertDelivery(db(), {
      shop,
      topic: EMAIL_TOPIC,
      payload: { ...fixture("customers-email-marketing-consent-update"), customer_id: 2, email_address: "someone.else@example.com" },
    });
    await deliver(shop, "customers/redact", { ...fixture("customers-redact"), shop_domain: shop });
    for (const id of [byCustomerId, bySmsId, byEmailOnly]) {
      expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).payload).toBeNull();
    }
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id: someoneElse } })).payload).not.toBeNull();
  });
});
