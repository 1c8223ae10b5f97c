import {
  type ConsentState,
  type CustomerRow,
  type MarketingConsent,
  type OptInLevel,
  type OrderBundle,
  type OrderLineRow,
  type OrderParts,
  type OrderRow,
  type RefundParts,
  type RefundRow,
} from "./mappers";

// OrderBundles as columns, to hand a batch from one thread to another: ids and amounts in
// BigInt64Arrays, times in Float64Arrays, flags in Uint8Arrays (all moved, not copied), text
// in plain string arrays. Structured clone of the bundles themselves serialises every
// object's keys, Date and BigInt one by one, which cost as much CPU as parsing the JSON
// they came from (ADR 0009). decodeBundles(encodeBundles(b)) deep-equals b.

interface Bigints {
  values: BigInt64Array;
  isNull: Uint8Array;
}
interface StringLists {
  items: string[];
  /** End offset in items of each row's list. */
  ends: Uint32Array;
}

export interface BundleColumns {
  count: number;
  order: {
    id: Bigints; name: (string | null)[]; customerId: Bigints; processedAt: Float64Array; shopifyCreatedAt: Float64Array;
    shopifyUpdatedAt: Float64Array; currency: string[]; currentTotalMinor: Bigints; test: Uint8Array; cancelledAt: Float64Array;
    financialStatus: (string | null)[]; sourceName: (string | null)[]; discountCodes: StringLists; tags: StringLists;
    firstProductId: Bigints; firstProductTitle: (string | null)[]; lineItemCount: Float64Array;
    marketingSource: (string | null)[]; marketingSourceFromJourney: boolean[];
    /** One column per part; a bundle without parts is null in all of them. */
    parts: Record<keyof OrderParts, Bigints>;
  };
  /** Per bundle: whether it carries a profile; the customer columns hold a row only for those that do. */
  hasCustomer: Uint8Array;
  customer: {
    id: Bigints; email: (string | null)[]; firstName: (string | null)[]; lastName: (string | null)[]; phone: (string | null)[];
    state: (string | null)[]; tags: StringLists; tagsKnown: Uint8Array; currency: (string | null)[]; shopifyCreatedAt: Float64Array; shopifyUpdatedAt: Float64Array;
    emailConsent: ConsentColumns; smsConsent: ConsentColumns;
  };
  /** End offset in the refund columns of each bundle's refunds. */
  refundEnds: Uint32Array;
  refund: { id: Bigints; orderId: Bigints; createdAt: Float64Array; amountMinor: Bigints; currency: (string | null)[]; parts: Record<keyof RefundParts, Bigints> };
  /** Per bundle: whether it carries lines (OrderBundle.lines undefined: 0), and the end offset of its lines in the line columns. */
  hasLines: Uint8Array;
  lineEnds: Uint32Array;
  /** Order lines (cost of goods); a line without its inventory item is null in itemId. */
  line: { id: Bigints; variantId: Bigints; keptQuantity: Float64Array; keptNetSalesMinor: Bigints; itemId: Bigints; itemUpdatedAt: Float64Array; costMinor: Bigints };
}

/** One channel's consent per customer; a customer whose source said nothing is null in `state`. */
interface ConsentColumns {
  state: (ConsentState | null)[];
  optInLevel: (OptInLevel | null)[];
  updatedAt: Float64Array;
}

function consentColumns(consents: (MarketingConsent | null)[]): ConsentColumns {
  return {
    state: consents.map((c) => c?.state ?? null),
    optInLevel: consents.map((c) => c?.optInLevel ?? null),
    updatedAt: times(consents.map((c) => c?.updatedAt ?? null)),
  };
}

function consentAt(columns: ConsentColumns, i: number): MarketingConsent | null {
  const state = columns.state[i];
  return state === null ? null : { state, optInLevel: columns.optInLevel[i], updatedAt: timeAt(columns.updatedAt, i) };
}

const ORDER_PART_KEYS = ["grossSalesMinor", "discountsMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor"] as const satisfies readonly (keyof OrderParts)[];
const REFUND_PART_KEYS = ["returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor"] as const satisfies readonly (keyof RefundParts)[];

function partColumns<K extends string>(keys: readonly K[], rows: ({ [key in K]: bigint } | null)[]): Record<K, Bigints> {
  return Object.fromEntries(keys.map((key) => [key, bigints(rows.map((row) => (row === null ? null : row[key])))])) as Record<K, Bigints>;
}

function partsAt<K extends string>(keys: readonly K[], columns: Record<K, Bigints>, i: number): { [key in K]: bigint } | null {
  if (columns[keys[0]].isNull[i]) return null;
  return Object.fromEntries(keys.map((key) => [key, bigintAt(columns[key], i)!])) as { [key in K]: bigint };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function bigints(values: (bigint | null)[]): Bigints {
  const out: Bigints = { values: new BigInt64Array(values.length), isNull: new Uint8Array(values.length) };
  values.forEach((value, i) => {
    if (value === null) out.isNull[i] = 1;
    else if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`${value} does not fit a 64-bit integer`);
    else out.values[i] = value;
  });
  return out;
}
const bigintAt = (column: Bigints, i: number): bigint | null => (column.isNull[i] ? null : column.values[i]);

const times = (values: (Date | null)[]) => Float64Array.from(values, (date) => (date === null ? Number.NaN : date.getTime()));
const timeAt = (column: Float64Array, i: number): Date | null => (Number.isNaN(column[i]) ? null : new Date(column[i]));

function stringLists(lists: string[][]): StringLists {
  const ends = new Uint32Array(lists.length);
  const items: string[] = [];
  lists.forEach((list, i) => {
    for (const item of list) items.push(item);
    ends[i] = items.length;
  });
  return { items, ends };
}
const listAt = (column: StringLists, i: number) => column.items.slice(i === 0 ? 0 : column.ends[i - 1], column.ends[i]);

export function encodeBundles(bundles: OrderBundle[]): BundleColumns {
  const orders = bundles.map((b) => b.order);
  const customers = bundles.flatMap((b) => (b.customer ? [b.customer] : []));
  const refunds = bundles.flatMap((b) => b.refunds);
  const lines: OrderLineRow[] = bundles.flatMap((b) => b.lines ?? []);
  let refundCount = 0;
  let lineCount = 0;
  return {
    count: bundles.length,
    order: {
      id: bigints(orders.map((o) => o.id)),
      name: orders.map((o) => o.name),
      customerId: bigints(orders.map((o) => o.customerId)),
      processedAt: times(orders.map((o) => o.processedAt)),
      shopifyCreatedAt: times(orders.map((o) => o.shopifyCreatedAt)),
      shopifyUpdatedAt: times(orders.map((o) => o.shopifyUpdatedAt)),
      currency: orders.map((o) => o.currency),
      currentTotalMinor: bigints(orders.map((o) => o.currentTotalMinor)),
      test: Uint8Array.from(orders, (o) => (o.test ? 1 : 0)),
      cancelledAt: times(orders.map((o) => o.cancelledAt)),
      financialStatus: orders.map((o) => o.financialStatus),
      sourceName: orders.map((o) => o.sourceName),
      discountCodes: stringLists(orders.map((o) => o.discountCodes)),
      tags: stringLists(orders.map((o) => o.tags)),
      firstProductId: bigints(orders.map((o) => o.firstProductId)),
      firstProductTitle: orders.map((o) => o.firstProductTitle),
      lineItemCount: Float64Array.from(orders, (o) => o.lineItemCount),
      marketingSource: orders.map((o) => o.marketingSource),
      marketingSourceFromJourney: orders.map((o) => o.marketingSourceFromJourney),
      parts: partColumns(ORDER_PART_KEYS, orders.map((o) => o.parts)),
    },
    hasCustomer: Uint8Array.from(bundles, (b) => (b.customer ? 1 : 0)),
    customer: {
      id: bigints(customers.map((c) => c.id)),
      email: customers.map((c) => c.email),
      firstName: customers.map((c) => c.firstName),
      lastName: customers.map((c) => c.lastName),
      phone: customers.map((c) => c.phone),
      state: customers.map((c) => c.state),
      tags: stringLists(customers.map((c) => c.tags ?? [])),
      tagsKnown: Uint8Array.from(customers, (c) => (c.tags === null ? 0 : 1)),
      currency: customers.map((c) => c.currency),
      shopifyCreatedAt: times(customers.map((c) => c.shopifyCreatedAt)),
      shopifyUpdatedAt: times(customers.map((c) => c.shopifyUpdatedAt)),
      emailConsent: consentColumns(customers.map((c) => c.emailConsent)),
      smsConsent: consentColumns(customers.map((c) => c.smsConsent)),
    },
    refundEnds: Uint32Array.from(bundles, (b) => (refundCount += b.refunds.length)),
    refund: {
      id: bigints(refunds.map((r) => r.id)),
      orderId: bigints(refunds.map((r) => r.orderId)),
      createdAt: times(refunds.map((r) => r.createdAt)),
      amountMinor: bigints(refunds.map((r) => r.amountMinor)),
      currency: refunds.map((r) => r.currency),
      parts: partColumns(REFUND_PART_KEYS, refunds.map((r) => r.parts)),
    },
    hasLines: Uint8Array.from(bundles, (b) => (b.lines ? 1 : 0)),
    lineEnds: Uint32Array.from(bundles, (b) => (lineCount += b.lines?.length ?? 0)),
    line: {
      id: bigints(lines.map((l) => l.id)),
      variantId: bigints(lines.map((l) => l.variantId)),
      keptQuantity: Float64Array.from(lines, (l) => l.keptQuantity),
      keptNetSalesMinor: bigints(lines.map((l) => l.keptNetSalesMinor)),
      itemId: bigints(lines.map((l) => l.inventoryItem?.id ?? null)),
      itemUpdatedAt: times(lines.map((l) => l.inventoryItem?.updatedAt ?? null)),
      costMinor: bigints(lines.map((l) => l.inventoryItem?.costMinor ?? null)),
    },
  };
}

export function decodeBundles(columns: BundleColumns): OrderBundle[] {
  const { order: o, customer: c, refund: r } = columns;
  const bundles: OrderBundle[] = [];
  let customerAt = 0;
  let refundAt = 0;
  let lineAt = 0;
  const l = columns.line;
  for (let i = 0; i < columns.count; i += 1) {
    const order: OrderRow = {
      id: bigintAt(o.id, i)!,
      name: o.name[i],
      customerId: bigintAt(o.customerId, i),
      processedAt: timeAt(o.processedAt, i)!,
      shopifyCreatedAt: timeAt(o.shopifyCreatedAt, i)!,
      shopifyUpdatedAt: timeAt(o.shopifyUpdatedAt, i)!,
      currency: o.currency[i],
      currentTotalMinor: bigintAt(o.currentTotalMinor, i)!,
      test: o.test[i] === 1,
      cancelledAt: timeAt(o.cancelledAt, i),
      financialStatus: o.financialStatus[i],
      sourceName: o.sourceName[i],
      discountCodes: listAt(o.discountCodes, i),
      tags: listAt(o.tags, i),
      firstProductId: bigintAt(o.firstProductId, i),
      firstProductTitle: o.firstProductTitle[i],
      lineItemCount: o.lineItemCount[i],
      marketingSource: o.marketingSource[i],
      marketingSourceFromJourney: o.marketingSourceFromJourney[i],
      parts: partsAt(ORDER_PART_KEYS, o.parts, i),
    };
    let customer: CustomerRow | null = null;
    if (columns.hasCustomer[i]) {
      const k = customerAt++;
      customer = {
        id: bigintAt(c.id, k)!,
        email: c.email[k],
        firstName: c.firstName[k],
        lastName: c.lastName[k],
        phone: c.phone[k],
        state: c.state[k],
        tags: c.tagsKnown[k] ? listAt(c.tags, k) : null,
        currency: c.currency[k],
        shopifyCreatedAt: timeAt(c.shopifyCreatedAt, k),
        shopifyUpdatedAt: timeAt(c.shopifyUpdatedAt, k)!,
        emailConsent: consentAt(c.emailConsent, k),
        smsConsent: consentAt(c.smsConsent, k),
      };
    }
    const refunds: RefundRow[] = [];
    for (; refundAt < columns.refundEnds[i]; refundAt += 1) {
      refunds.push({
        id: bigintAt(r.id, refundAt)!,
        orderId: bigintAt(r.orderId, refundAt)!,
        createdAt: timeAt(r.createdAt, refundAt)!,
        amountMinor: bigintAt(r.amountMinor, refundAt)!,
        currency: r.currency[refundAt],
        parts: partsAt(REFUND_PART_KEYS, r.parts, refundAt),
      });
    }
    const lines: OrderLineRow[] = [];
    for (; lineAt < columns.lineEnds[i]; lineAt += 1) {
      const itemId = bigintAt(l.itemId, lineAt);
      const line: OrderLineRow = {
        id: bigintAt(l.id, lineAt)!,
        variantId: bigintAt(l.variantId, lineAt),
        keptQuantity: l.keptQuantity[lineAt],
        keptNetSalesMinor: bigintAt(l.keptNetSalesMinor, lineAt)!,
      };
      if (itemId !== null) line.inventoryItem = { id: itemId, updatedAt: timeAt(l.itemUpdatedAt, lineAt)!, costMinor: bigintAt(l.costMinor, lineAt) };
      lines.push(line);
    }
    bundles.push(columns.hasLines[i] ? { order, customer, refunds, lines } : { order, customer, refunds });
  }
  return bundles;
}

/** The buffers of every typed array in `columns`, for postMessage's transfer list. */
export function transferablesOf(columns: BundleColumns): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  const visit = (value: unknown) => {
    if (ArrayBuffer.isView(value)) buffers.push(value.buffer as ArrayBuffer);
    else if (value && typeof value === "object" && !Array.isArray(value)) Object.values(value).forEach(visit);
  };
  visit(columns);
  return buffers;
}
