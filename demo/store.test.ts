import { CATALOGUE } from "./catalogue";
import { Random } from "~/analytics/random";
import { DAY, YEAR, type DemoStore } from "./store-model";
import { allocate, isBfcm } from "./calendar";
import { generateStore } from "./store";
import { orderStateAt, refundTotalMinor } from "./order-state";

const END = new Date("2026-11-20T15:30:00Z");
let store: DemoStore;

beforeAll(() => {
  store = generateStore({ endAt: END });
});

const counted = () => store.orders.filter((order) => !order.test);
const share = (part: number, whole: number) => part / whole;

describe("Random", () => {
  it("is deterministic per seed and differs between seeds", () => {
    const draw = (seed: string) => Array.from({ length: 5 }, () => new Random(seed).uint32());
    expect(draw("a")).toEqual(draw("a"));
    const a = new Random("a");
    const b = new Random("b");
    expect([a.uint32(), a.uint32()]).not.toEqual([b.uint32(), b.uint32()]);
  });

  it("draws distributions with the right means", () => {
    const rng = new Random("moments");
    const n = 20_000;
    let gamma = 0;
    let beta = 0;
    let logNormal = 0;
    for (let i = 0; i < n; i++) {
      gamma += rng.gamma(0.75, 2);
      beta += rng.beta(2, 3);
      logNormal += rng.logNormal(0, 0.5);
    }
    expect(gamma / n).toBeCloseTo(1.5, 1);
    expect(beta / n).toBeCloseTo(0.4, 1);
    expect(logNormal / n).toBeCloseTo(Math.exp(0.125), 1);
  });

  it("makes version-4-shaped uuids", () => {
    expect(new Random("u").uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("allocate", () => {
  it("splits exactly and proportionally", () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocate(1650, [3600, 12900])).toEqual([360, 1290]);
    expect(allocate(0, [5, 5])).toEqual([0, 0]);
  });
});

describe("generateStore", () => {
  it("is a pure function of its options", () => {
    const again = generateStore({ endAt: END, customers: 300 });
    const first = generateStore({ endAt: END, customers: 300 });
    const fingerprint = (s: DemoStore) => s.orders.map((o) => `${o.id}:${o.processedAt}:${orderStateAt(o, s.endAt).current.totalMinor}`).join(",");
    expect(fingerprint(again)).toBe(fingerprint(first));
    expect(fingerprint(generateStore({ endAt: END, customers: 300, seed: "other" }))).not.toBe(fingerprint(first));
  });

  it("is the size of a real small shop over more than two years ending at endAt", () => {
    expect(store.customers.length).toBeGreaterThanOrEqual(2_000);
    expect(store.orders.length).toBeGreaterThanOrEqual(5_000);
    expect(store.endAt - store.startAt).toBeGreaterThanOrEqual(2 * YEAR);
    const last = store.orders[store.orders.length - 1];
    expect(store.endAt - last.processedAt).toBeLessThan(3 * DAY);
    for (const order of store.orders) {
      expect(order.processedAt).toBeGreaterThanOrEqual(store.startAt);
      expect(order.processedAt).toBeLessThanOrEqual(store.endAt);
      expect(order.createdAt).toBeGreaterThanOrEqual(order.processedAt);
      for (const at of [order.editedAt, order.fulfilledAt, order.refund?.createdAt, order.cancellation?.at]) {
        if (at == null) continue;
        expect(at).toBeGreaterThanOrEqual(order.createdAt);
        expect(at).toBeLessThanOrEqual(store.endAt);
      }
      if (order.customer) expect(order.customer.createdAt).toBeLessThan(order.processedAt);
    }
  });

  it("has ids and order numbers that grow with time and never repeat", () => {
    const ids = new Set(store.orders.map((o) => o.id));
    expect(ids.size).toBe(store.orders.length);
    for (let i = 1; i < store.orders.length; i++) {
      expect(store.orders[i].id).toBeGreaterThan(store.orders[i - 1].id);
      expect(store.orders[i].number).toBe(store.orders[i - 1].number + 1);
    }
    expect(new Set(store.customers.map((c) => c.id)).size).toBe(store.customers.length);
    expect(new Set(store.customers.map((c) => c.email)).size).toBe(store.customers.length);
    const lineIds = store.orders.flatMap((o) => o.lines.map((l) => l.id));
    expect(new Set(lineIds).size).toBe(lineIds.length);
  });

  it("has about a quarter of buyers buying again, with a long tail", () => {
    const perCustomer = new Map<number, number>();
    for (const order of counted()) if (order.customer) perCustomer.set(order.customer.id, (perCustomer.get(order.customer.id) ?? 0) + 1);
    const counts = [...perCustomer.values()];
    const repeat = share(counts.filter((n) => n >= 2).length, counts.length);
    expect(repeat).toBeGreaterThan(0.2);
    expect(repeat).toBeLessThan(0.32);
    expect(counts.filter((n) => n >= 5).length).toBeGreaterThan(20);
    // Some accounts never order.
    expect(store.customers.length - perCustomer.size).toBeGreaterThan(50);
  });

  it("has a typical DTC order mix", () => {
    const orders = counted();
    const totals = orders.map((o) => orderStateAt(o, o.createdAt).original.totalMinor).sort((a, b) => a - b);
    const aov = totals.reduce((a, b) => a + b, 0) / totals.length / 100;
    expect(aov).toBeGreaterThan(60);
    expect(aov).toBeLessThan(90);
    // Log-normal-like spread: a right tail well beyond the median.
    expect(totals[Math.floor(totals.length * 0.95)] / totals[Math.floor(totals.length / 2)]).toBeGreaterThan(2);
    expect(share(orders.filter((o) => o.refund).length, orders.length)).toBeGreaterThan(0.03);
    expect(share(orders.filter((o) => o.refund).length, orders.length)).toBeLessThan(0.08);
    expect(share(orders.filter((o) => o.cancellation).length, orders.length)).toBeGreaterThan(0.01);
    expect(share(orders.filter((o) => o.cancellation).length, orders.length)).toBeLessThan(0.035);
    expect(share(orders.filter((o) => !o.customer).length, orders.length)).toBeGreaterThan(0.02);
    expect(share(orders.filter((o) => !o.customer).length, orders.length)).toBeLessThan(0.045);
    expect(store.orders.filter((o) => o.test).length).toBeGreaterThanOrEqual(3);
    expect(orders.filter((o) => o.editedAt !== null).length).toBeGreaterThan(20);
    expect(new Set(orders.map((o) => o.channel))).toEqual(new Set(["web", "pos", "shopify_draft_order", "social"]));
    const codes = new Set(orders.flatMap((o) => (o.discount ? [o.discount.code] : [])));
    for (const code of ["WELCOME10", "BFCM25", "HOLIDAY15", "LOYAL20"]) expect(codes).toContain(code);
    const products = new Set(orders.flatMap((o) => o.lines.map((l) => l.product.id)));
    expect(products.size).toBe(CATALOGUE.length);
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(40);
  });

  it("sells more over Black Friday weekend and in December", () => {
    const orders = counted();
    const perDay = (from: number, to: number) => orders.filter((o) => o.processedAt >= from && o.processedAt < to).length / ((to - from) / DAY);
    const bfcm = orders.filter((o) => isBfcm(o.processedAt));
    const bfcmDays = new Set(bfcm.map((o) => new Date(o.processedAt - 5 * 3_600_000).toISOString().slice(0, 10))).size;
    const october = perDay(Date.UTC(2025, 9, 1), Date.UTC(2025, 10, 1));
    expect(bfcm.length / bfcmDays).toBeGreaterThan(2 * october);
    expect(perDay(Date.UTC(2025, 11, 1), Date.UTC(2025, 11, 21))).toBeGreaterThan(perDay(Date.UTC(2026, 0, 5), Date.UTC(2026, 1, 28)));
  });

  it("keeps money consistent in integer cents", () => {
    for (const order of store.orders) {
      const state = orderStateAt(order, store.endAt);
      const { original, current } = state;
      expect(original.totalMinor).toBe(original.lineItemsMinor - original.discountsMinor + original.shippingMinor + original.taxMinor);
      expect(current.totalMinor).toBe(current.lineItemsMinor - current.discountsMinor + current.shippingMinor + current.taxMinor);
      const refunded = state.refunds.reduce((sum, r) => sum + refundTotalMinor(r), 0);
      if (state.financialStatus !== "voided") expect(current.totalMinor).toBe(original.totalMinor - refunded);
      else expect(current.totalMinor).toBe(0);
      if (state.cancelled) expect(current.totalMinor).toBe(0);
      expect(current.totalMinor).toBeGreaterThanOrEqual(0);
      for (const line of order.lines) {
        expect(Number.isInteger(line.discountMinor) && Number.isInteger(line.taxMinor)).toBe(true);
        expect(line.discountMinor).toBeLessThanOrEqual(line.priceMinor * line.quantity);
      }
      if (order.discount) {
        const initial = order.lines.filter((l) => l.addedAt === null);
        const items = initial.reduce((s, l) => s + l.priceMinor * l.quantity, 0);
        expect(initial.reduce((s, l) => s + l.discountMinor, 0)).toBe(Math.round((items * order.discount.percent) / 100));
      }
    }
  });

  it("rejects impossible options", () => {
    expect(() => generateStore({ endAt: new Date("nope") })).toThrow(/endAt/);
    expect(() => generateStore({ endAt: END, customers: 0 })).toThrow(/customers/);
  });
});
