// Test support (imported only by *.test.ts): a seeded shop of customers with random
// order histories, for the whole-shop scoring tests.
import { seededRandom } from "./clv/rows";
import { type CustomerOrderFact } from "./customer-metrics";

export const AS_OF = 20_000;

export function randomOrders(random: () => number, count: number): CustomerOrderFact[] {
  const orders: CustomerOrderFact[] = [];
  const first = AS_OF - Math.floor(random() * 500);
  for (let k = 0; k < count; k++) {
    // Some same-day orders, some after as-of (ignored by the facts), some worth 0.
    const day = k === 0 ? first : first + Math.floor(random() * (AS_OF - first + 20));
    orders.push({ day, net: random() < 0.1 ? 0 : Math.floor(random() * 20_000), discounted: random() < 0.3 });
  }
  return orders;
}

export function randomShop(customers: number, seed = 7) {
  const random = seededRandom(seed);
  return Array.from({ length: customers }, (_, i) => {
    const count = random() < 0.05 ? 0 : 1 + Math.floor(-Math.log(random()) * 2);
    return { id: String(1000 + i), orders: randomOrders(random, count) };
  });
}
