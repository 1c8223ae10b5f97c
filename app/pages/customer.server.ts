import { type ShopModelJson, restoreShopModel } from "~/analytics/clv/shop-model";
import { customerFactsFromOrders, type CustomerOrderFact } from "~/analytics/customer-metrics";
import { dayToIso } from "~/analytics/dates";
import { customerName, isoOfDate } from "~/display/format";
import { segmentName } from "~/display/segment-names";
import { readCustomerMetricsRow } from "~/data/customer-metrics-reads.server";
import { readCustomerRow } from "~/data/customers-reads.server";
import { countCustomerOrders, readCustomerCountedOrders, readCustomerOrders } from "~/data/orders-reads.server";
import { readCustomerTransitions } from "~/data/segment-transitions-reads.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { readFitModel } from "~/data/shop-fit.server";
import { type Queryable } from "~/db/pg.server";
import { type CustomerDetail, P_ALIVE_POINTS, TIMELINE_ORDER_LIMIT, TRANSITION_LIMIT } from "./customer";

// One customer's page: their Customer and CustomerMetrics rows, latest orders and segment
// changes, and P(alive) over time from the shop's stored model. Indexed reads of one
// customer's rows (app/data), whatever the shop's size.

const CUSTOMER_ID = /^\d{1,19}$/;

/**
 * Everything the customer page shows, or null when the shop has no such customer (the
 * route answers 404): an id of another shop is simply not found under this shop.
 */
export async function loadCustomer(db: Queryable, shop: string, idText: string): Promise<CustomerDetail | null> {
  if (!CUSTOMER_ID.test(idText) || BigInt(idText) > 9223372036854775807n) return null;
  const id = idText;
  const [customer, m] = await Promise.all([readCustomerRow(db, shop, id), readCustomerMetricsRow(db, shop, id)]);
  if (!customer && !m) return null;

  const settings = await loadMetricsSettings(db, shop);
  const [orders, storedOrders, transitions, fit, countedRows] = await Promise.all([
    readCustomerOrders(db, shop, id, TIMELINE_ORDER_LIMIT, settings),
    countCustomerOrders(db, shop, id),
    readCustomerTransitions(db, shop, id, TRANSITION_LIMIT),
    readFitModel(db, shop),
    readCustomerCountedOrders(db, shop, settings, id),
  ]);
  const labels = settings.segmentLabels;
  const counted: CustomerOrderFact[] = countedRows.map((row) => ({ day: Number(row.day), net: Number(row.net), discounted: row.discounted, voided: row.voided }));
  const modelJson = fit?.status === "ready" ? fit.model : null;

  return {
    id,
    name: customerName({ id, firstName: customer?.firstName, lastName: customer?.lastName, email: customer?.email }),
    email: customer?.email ?? null,
    currency: settings.currency,
    horizonDays: settings.horizonDays,
    grossMargin: settings.grossMargin,
    costs: settings.costs ?? null,
    tags: customer?.tags ?? [],
    shopifyOrdersCount: customer?.ordersCount ?? 0,
    metrics: m
      ? {
          orders: m.orders,
          netSpentMinor: Number(m.netSpentMinor),
          grossProfitMinor: Number(m.grossProfitMinor),
          uncostedSalesMinor: Number(m.uncostedSalesMinor),
          aovMinor: m.aovMinor === null ? null : Number(m.aovMinor),
          discountedOrders: m.discountedOrders,
          firstOrderIso: isoOfDate(m.firstOrderDay),
          lastOrderIso: isoOfDate(m.lastOrderDay),
          recencyDays: m.recencyDays,
          scores: m.rScore !== null && m.fScore !== null && m.mScore !== null ? { r: m.rScore, f: m.fScore, m: m.mScore } : null,
          segment: m.segment,
          segmentName: segmentName(m.segment, labels),
          behaviours: (m.behaviours ?? []).map((key) => ({ key, name: segmentName(key) })),
          pAlive: m.pAlive,
          chanceOfOrder90d: m.chanceOfOrder90d,
          chanceOfOrder365d: m.chanceOfOrder365d,
          expectedPurchases90d: m.expectedPurchases90d,
          expectedPurchases365d: m.expectedPurchases365d,
          expectedOrderValueMinor: m.expectedOrderValueMinor === null ? null : Number(m.expectedOrderValueMinor),
          predictedClvMinor: m.predictedClvMinor === null ? null : Number(m.predictedClvMinor),
          expectedNextOrderIso: isoOfDate(m.expectedNextOrderDay),
          asOfIso: dayToIso(m.asOfDay),
          computedAtIso: m.computedAt.toISOString(),
        }
      : null,
    orders: orders.map((o) => ({
      id: o.id.toString(),
      name: o.name,
      processedAtIso: o.processedAt.toISOString(),
      netMinor: Number(o.countedMinor), // what the order counts as, on the shop's revenue basis (0 when excluded)
      currentTotalMinor: Number(o.currentTotalMinor),
      test: o.test,
      excludedBySettings: o.excludedBySettings,
      cancelled: o.cancelledAt !== null,
      financialStatus: o.financialStatus,
      sourceName: o.sourceName,
      discountCodes: o.discountCodes ?? [],
      lineItemCount: o.lineItemCount,
      firstProductTitle: o.firstProductTitle,
    })),
    storedOrders,
    transitions: transitions.map((t) => ({
      from: t.fromSegment,
      to: t.toSegment,
      fromName: t.fromSegment === null ? "First scored" : segmentName(t.fromSegment, labels),
      toName: t.toSegment === null ? "No longer scored" : segmentName(t.toSegment, labels),
      atIso: t.at.toISOString(),
      source: t.source,
    })),
    pAliveHistory: modelJson && fit ? pAliveHistory(id, counted, modelJson, fit.asOfDay) : [],
    prediction: {
      status: fit?.status ?? "none",
      reason: fit?.reason ?? null,
      source: fit?.predictionSource ?? null,
      modelName: modelJson?.chosen ?? null,
      assumptions: modelJson?.assumptions ?? null,
      fitAsOfIso: fit ? dayToIso(fit.asOfDay) : null,
    },
  };
}

/**
 * P(alive) on past days as the shop's current model sees the customer's history up to
 * each day: from the first order to the fit's as-of day, at most P_ALIVE_POINTS points.
 * One customer's orders, pure analytics: cheap.
 */
export function pAliveHistory(
  customerId: string,
  orders: readonly CustomerOrderFact[],
  modelJson: ShopModelJson,
  asOfDay: number,
): { dayIso: string; pAlive: number }[] {
  if (orders.length === 0) return [];
  const model = restoreShopModel(modelJson);
  const firstDay = Math.min(...orders.map((o) => o.day));
  if (firstDay > asOfDay) return [];
  const span = asOfDay - firstDay;
  const step = Math.max(7, Math.ceil(span / (P_ALIVE_POINTS - 1)));
  const days: number[] = [];
  for (let day = firstDay; day < asOfDay; day += step) days.push(day);
  days.push(asOfDay);
  const points: { dayIso: string; pAlive: number }[] = [];
  for (const day of days) {
    const facts = customerFactsFromOrders(customerId, orders, day, modelJson.assumptions.unit);
    if (!facts.summary) continue;
    points.push({ dayIso: dayToIso(day), pAlive: model.score(facts.summary).pAlive });
  }
  return points;
}
