import { dayToIso } from "~/analytics/dates";
import { isoDay, isoOfDate, money, percent } from "~/display/format";
import { expectedSpendLabel } from "~/display/glossary";
import { segmentName } from "~/display/segment-names";
import { readCustomerMetricsRow } from "~/data/customer-metrics-reads.server";
import { readCustomerRow } from "~/data/customers-reads.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type CustomerBlockResult } from "./customer-block";

// The customer details block's data: one customer's stored CustomerMetrics row under the
// authenticated shop, in the labels and formats of Tenure's own customer page. Two indexed
// reads of one customer plus the shop's settings, whatever the shop's size.

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
  const minor = (value: bigint | null) => (value === null ? null : Number(value));
  const expectedSpendMinor = minor(m.predictedClvMinor);
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
        expectedSpend: { label: expectedSpendLabel(settings.horizonDays), value: expectedSpendMinor, text: money(expectedSpendMinor, currency) },
        spentToDate: { label: "Spent to date", value: spentMinor, text: money(spentMinor, currency) },
        chanceOfOrder90d: { label: "Chance of ordering, next 90 days", value: m.chanceOfOrder90d, text: percent(m.chanceOfOrder90d, 0) },
        expectedNextOrder: { label: "Expected next order", value: nextOrderIso, text: isoDay(nextOrderIso) },
        scoredAsOf: { label: "Scored as of", value: asOfIso, text: isoDay(asOfIso) },
        currency,
      },
    },
  };
}
