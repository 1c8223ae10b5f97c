import type pg from "pg";
import { columnByCode, customersTablesByCode } from "~/analytics/customer-subsets";
import { MONTH_NAMES, acquisitionDrivers, firstOrderMonthName } from "~/analytics/drivers";
import { type DimensionValues } from "~/analytics/dimension-values";
import { dayToIso } from "~/analytics/dates";
import { kpisOf, periodTotals } from "~/analytics/kpis";
import { type OrderTableBuilder, type RetentionReport, retentionSummaryFromTable } from "~/analytics/retention";
import { type SegmentTally } from "~/analytics/segment-tally";
import {
  AGGREGATE_KIND,
  type BacktestAggregate,
  type DriversAggregate,
  type KpisAggregate,
  type MovementsAggregate,
  RETENTION_DIMENSIONS,
  type RetentionAggregate,
  type SegmentsAggregate,
  retentionKind,
} from "~/data/aggregates";
import { dailyCountsOn, replaceDailyCounts, replaceShopAggregates, segmentMovesSince } from "~/data/aggregates.server";
import { countAllCustomerTableRows } from "~/data/customer-metrics-reads.server";
import { type MetricsSettings } from "~/data/settings.server";
import { pgTransaction } from "~/db/pg.server";
import { backtestAggregate } from "./backtest-aggregate";
import { type FitOutcome } from "./fit.server";
import { type ShopData } from "./read-orders.server";

// The refit's step 5: the shop aggregates the pages read (KPIs, segments, movements,
// retention and its filters, the backtest) and today's segment counts. The part that
// comes from the orders alone (tableAggregates) runs while PostgreSQL is busy with the
// rescore's last statements; the rest needs the rows as written (the tally).

/** KPIs compare with this many days earlier. */
export const KPI_PERIOD_DAYS = 30;
/** Segment movements counted over this many days. */
export const MOVEMENT_DAYS = 7;
/** Retention filter values kept per acquisition dimension. */
export const RETENTION_FILTER_VALUES = 8;

/** Today's customers per segment (replaces the day's counts when refitted twice in a day). */
export async function writeDailyCounts(pool: pg.Pool, shop: string, asOfDay: number, tally: SegmentTally): Promise<void> {
  const counts = tally.counts();
  await pgTransaction(pool, (_tx, client) => replaceDailyCounts(client, shop, asOfDay, counts));
}

export interface AggregateInputs {
  settings: MetricsSettings;
  asOfDay: number;
  modelVersion: number | null;
  refitAt: Date;
  tally: SegmentTally;
  report: RetentionReport;
  table: ReturnType<OrderTableBuilder["build"]>["table"];
  /** Each table row's own gross profit (issue 17): the filtered cohorts' profit curves. */
  profits?: Float64Array;
  dimensions: ShopData["dimensions"];
  fit: FitOutcome;
  /** ShopData.onlyVoidedCustomers: counted on the dashboard. */
  onlyVoidedCustomers: number;
}

/** What the acquisition drivers need beside the table: per table customer. */
export interface DriverInputs {
  marketingSources: DimensionValues;
  /** Chance of ordering in the next 90 days; NaN without a prediction. */
  chanceOfOrder90d: Float64Array;
}

/**
 * The aggregates that come from the orders alone (not from the rows written): the larger
 * part of the work. Yields between retention subsets, so it can run while PostgreSQL builds
 * a partition's indexes without holding up the statements that build them.
 */
export async function tableAggregates(
  a: Omit<AggregateInputs, "tally" | "refitAt" | "modelVersion" | "onlyVoidedCustomers"> & {
    drivers?: DriverInputs;
  },
): Promise<TableAggregates> {
  const { settings, asOfDay, report, table, dimensions } = a;
  const before = retentionSummaryFromTable(table, { asOfDay: asOfDay - KPI_PERIOD_DAYS, maxCohorts: 0 });
  const period = periodTotals(table, asOfDay, KPI_PERIOD_DAYS);
  // Retention, whole shop and per top value of each acquisition dimension.
  const retentionOptions = { cac: settings.cacMinor, grossMargin: settings.grossMargin > 0 && settings.grossMargin <= 1 ? settings.grossMargin : 1 };
  const filters = {} as RetentionAggregate["filters"];
  const filtered: [string, RetentionAggregate][] = [];
  for (const dimension of RETENTION_DIMENSIONS) {
    const values = dimensions[dimension];
    const top = values.top(RETENTION_FILTER_VALUES);
    filters[dimension] = top.map((v) => ({ value: v.value, customers: v.customers }));
    const subsets = customersTablesByCode(table, values.ofCustomer, top.map((v) => v.code));
    const subsetProfits = a.profits ? columnByCode(table, values.ofCustomer, top.map((v) => v.code), a.profits) : null;
    for (const v of top) {
      await new Promise((resolve) => setImmediate(resolve));
      const subset = subsets.get(v.code)!;
      const profits = subsetProfits?.get(v.code);
      filtered.push([
        retentionKind(dimension, v.value),
        {
          currency: settings.currency,
          report: retentionSummaryFromTable(subset, { asOfDay, ...retentionOptions, ...(profits ? { profits } : {}) }),
          filters,
          filter: { dimension, value: v.value },
        },
      ]);
    }
  }
  const retention: RetentionAggregate = { currency: settings.currency, report, filters };
  await new Promise((resolve) => setImmediate(resolve));
  const drivers = shopDrivers(a, a.drivers);
  await new Promise((resolve) => setImmediate(resolve));
  const backtest = backtestAggregate(table, { asOfDay, reportCustomers: report.totals.customers, chosen: a.fit.model?.chosen ?? null, reason: a.fit.reason });
  return { before, period, retention, filtered, backtest, drivers };
}

/** The acquisition drivers page's row: every dimension of the customers' first orders, and the reorder timing. */
function shopDrivers(a: Pick<AggregateInputs, "settings" | "asOfDay" | "table" | "dimensions">, inputs: DriverInputs | undefined): DriversAggregate {
  const { table, dimensions } = a;
  // Each table customer's first-order month (0-11, -1 none). The columns are read once: each
  // getter makes a new view, which per row cost seconds at a million customers.
  const customers = table.customers;
  const days = table.days;
  const amounts = table.amounts;
  const firstDay = new Int32Array(table.customerCount).fill(2 ** 31 - 1);
  for (let row = 0; row < customers.length; row++) {
    const c = customers[row];
    const day = days[row];
    if (amounts[row] >= 0 && day <= a.asOfDay && day < firstDay[c]) firstDay[c] = day;
  }
  const month = new Int32Array(table.customerCount).fill(-1);
  const monthOfDay = new Map<number, number>();
  for (let c = 0; c < month.length; c++) {
    const day = firstDay[c];
    if (day === 2 ** 31 - 1) continue;
    let m = monthOfDay.get(day);
    if (m === undefined) {
      m = MONTH_NAMES.indexOf(firstOrderMonthName(day));
      monthOfDay.set(day, m);
    }
    month[c] = m;
  }
  const sources = inputs?.marketingSources;
  const codesOf = (values: DimensionValues) => ({ ofCustomer: values.ofCustomer, values: values.values });
  const report = acquisitionDrivers(
    table,
    [
      { key: "firstProduct", label: "First product", codes: codesOf(dimensions.firstProduct), noneLabel: "No product" },
      { key: "discountCode", label: "First discount code", codes: codesOf(dimensions.discountCode), noneLabel: "No code" },
      { key: "channel", label: "Sales channel", codes: codesOf(dimensions.channel), noneLabel: "Unknown channel" },
      { key: "marketingSource", label: "Marketing source", codes: sources ? codesOf(sources) : { ofCustomer: [], values: [] }, noneLabel: "Unknown source" },
      { key: "firstOrderMonth", label: "Month of the first order", codes: { ofCustomer: month, values: MONTH_NAMES }, noneLabel: "Unknown" },
    ],
    { asOfDay: a.asOfDay },
    inputs?.chanceOfOrder90d,
  );
  return { currency: a.settings.currency, ...report };
}

export interface TableAggregates {
  before: RetentionReport;
  period: ReturnType<typeof periodTotals>;
  retention: RetentionAggregate;
  filtered: [string, RetentionAggregate][];
  backtest: BacktestAggregate;
  drivers: DriversAggregate;
}

export async function writeAggregates(pool: pg.Pool, shop: string, a: AggregateInputs, parts: TableAggregates): Promise<void> {
  const { settings, asOfDay, tally, report } = a;
  const asOfIso = dayToIso(asOfDay);

  // Segment history (daily counts written by earlier refits).
  const history = await dailyCountsOn(pool, shop, [7, 30, KPI_PERIOD_DAYS].map((d) => asOfDay - d));
  const counted = new Map<string, number>();
  const clvBefore = { sum: 0, customers: 0, any: false, known: false };
  for (const row of history) {
    const daysAgo = asOfDay - row.day;
    counted.set(`${daysAgo}|${row.kind}|${row.segment}`, row.customers);
    if (daysAgo === KPI_PERIOD_DAYS && row.kind === "rfm") {
      clvBefore.known = true;
      clvBefore.customers += row.customers;
      if (row.clv !== null) {
        clvBefore.any = true;
        clvBefore.sum += Number(row.clv);
      }
    }
  }
  const segments: SegmentsAggregate = {
    currency: settings.currency,
    asOfIso,
    customers: tally.customers,
    // The unfiltered customer table's "of N" on a shop too large to count per page load.
    tableCustomers: await countAllCustomerTableRows(pool, shop),
    netSpentMinor: tally.netSpent,
    rows: tally.rows(settings.segmentLabels, (kind, key, daysAgo) => counted.get(`${daysAgo}|${kind}|${key}`) ?? null),
  };

  const { before, period, retention, filtered, backtest: backtestAggregate } = parts;
  const kpis: KpisAggregate = {
    ...kpisOf({
      currency: settings.currency,
      asOfIso,
      periodDays: KPI_PERIOD_DAYS,
      now: report,
      before,
      averagePredictedClv: {
        value: tally.clvCount > 0 ? tally.clvSum / tally.clvCount : null,
        previous: clvBefore.any && clvBefore.customers > 0 ? clvBefore.sum / clvBefore.customers : null,
      },
      period,
    }),
    onlyVoidedCustomers: a.onlyVoidedCustomers,
    // Spent to date + expected spend over the same customers, those with a prediction (issue 13).
    // No earlier figure: the daily counts do not keep those customers' spending.
    averageLifetimeValueMinor: {
      value: tally.clvCount > 0 ? Math.round((tally.predictedNetSpent + tally.clvSum) / tally.clvCount) : null,
      previous: null,
    },
    // Product costs (issue 17): coverage and profit margin to date, from the rows as written.
    costs: {
      grossProfitMinor: tally.grossProfit,
      uncostedSalesMinor: tally.uncostedSales,
      coverage: tally.netSpent > 0 ? Math.max(0, 1 - tally.uncostedSales / tally.netSpent) : null,
      profitMargin: tally.netSpent > 0 ? tally.grossProfit / tally.netSpent : null,
    },
  };

  const moved = await segmentMovesSince(pool, shop, new Date(a.refitAt.getTime() - MOVEMENT_DAYS * 86_400_000));
  const movements: MovementsAggregate = {
    days: MOVEMENT_DAYS,
    total: moved.reduce((sum, row) => sum + row.customers, 0),
    moves: moved.map((row) => ({ from: row.from, to: row.to, customers: row.customers })),
  };

  const rows: [string, unknown][] = [
    [AGGREGATE_KIND.kpis, kpis],
    [AGGREGATE_KIND.segments, segments],
    [AGGREGATE_KIND.movements, movements],
    [AGGREGATE_KIND.retention, retention],
    [AGGREGATE_KIND.backtest, backtestAggregate],
    [AGGREGATE_KIND.drivers, parts.drivers],
    ...filtered,
  ];
  // Filter rows of values no longer in the top go; the rest are replaced.
  await pgTransaction(pool, (_tx, client) =>
    replaceShopAggregates(client, shop, { asOfDay, modelVersion: a.modelVersion, computedAt: a.refitAt }, rows, filtered.map(([kind]) => kind)),
  );
}
