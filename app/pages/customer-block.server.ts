import { dayToIso } from "~/analytics/dates";
import { currencyExponent } from "~/analytics/money";
import { isoDay, isoOfDate, money, percent } from "~/display/format";
import { expectedSpendLabel } from "~/display/glossary";
import { predictedValue12m } from "~/display/profile-properties";
import { segmentName } from "~/display/segment-names";
import { readCustomerMetricsRow } from "~/data/customer-metrics-reads.server";
import { readCustomerRow } from "~/data/customers-reads.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type CustomerBlockResult } from "./customer-block";

// The customer details block's data: one customer's stored CustomerMetrics row under the
// authenticated shop, in the labels and formats of Tenure's own customer page. Expected
// spend is over the next 12 months whatever Settings' horizon, the figure Tenure writes to
// the customer's metafield and sends to Klaviyo and Mailchimp (predictedValue12m), so the
// block and the metafields on the same admin page agree. Two indexed reads of one customer
// plus the shop's settings, whatever the shop's size.

const CUSTOMER_ID = /^\d{1,19}$/;
const MAX_BIGINT = 9223372036854775807n;

/** 400 for an id that is not a Shopify customer id, 404 for one this shop does not have (another shop's included). */
export async function loadCustomerBlock(db: Queryable, shop: string, idText: string): Promise<CustomerBlockResult> {
  if (!CUSTOMER_ID.test(idText) || BigInt(idText) > MAX_BIGINT) return { status: 400, body: { error: "A customer id is a whole number." } };
  const id = BigInt(idText).toString();
  const [customer, m] = await Promise.all([readCustomerRow(db, shop, id), readCustomerMetricsRow(db, shop, id)]);
  if (!customer && !m) return { status: 404, body: { error: "Tenure has no such customer in this shop yet." } };
  const tenurePath = `/app/customers/${id}`;
  if (!m) return { status: 200, body: { customerId: id, tenurePath, metrics: null } };

  const settings = await loadMetricsSettings(db, shop);
  const currency = settings.currency;
  const spend12m = predictedValue12m(
    {
      segment: m.segment,
      behaviours: m.behaviours ?? [],
      netSpentMinor: m.netSpentMinor.toString(),
      predictedClvMinor: m.predictedClvMinor?.toString() ?? null,
      expectedPurchases365d: m.expectedPurchases365d,
      expectedOrderValueMinor: m.expectedOrderValueMinor?.toString() ?? null,
      chanceOfOrder90d: m.chanceOfOrder90d,
      pAlive: m.pAlive,
      expectedNextOrderDay: isoOfDate(m.expectedNextOrderDay),
    },
    { currency, labels: settings.segmentLabels, horizonDays: settings.horizonDays },
  );
  const expectedSpendMinor = spend12m === null ? null : Math.round(spend12m * 10 ** currencyExponent(currency));
  const spentMinor = Number(m.netSpentMinor);
  const nextOrderIso = isoOfDate(m.expectedNextOrderDay);
  const asOfIso = dayToIso(m.asOfDay);
  return {
    status: 200,
    body: {
      customerId: id,
      tenurePath,
      metrics: {
        segment: { key: m.segment, name: segmentName(m.segment, settings.segmentLabels) },
        expectedSpend: { label: expectedSpendLabel(365), value: expectedSpendMinor, text: money(expectedSpendMinor, currency) },
        spentToDate: { label: "Spent to date", value: spentMinor, text: money(spentMinor, currency) },
        chanceOfOrder90d: { label: "Chance of ordering, next 90 days", value: m.chanceOfOrder90d, text: percent(m.chanceOfOrder90d, 0) },
        expectedNextOrder: { label: "Expected next order", value: nextOrderIso, text: isoDay(nextOrderIso) },
        scoredAsOf: { label: "Scored as of", value: asOfIso, text: isoDay(asOfIso) },
        currency,
      },
    },
  };
}
