// Test support (imported only by *.test.ts): a seeded shop of customers with random
// order histories, for the whole-shop scoring tests.
import { seededRandom } from "./clv/rows";
import { type CustomerOrderFact } from "./customer-metrics";
import { TransactionTable } from "./summary";

export const AS_OF = 20_000;

/** Three customers, four orders: a (5 and 40 days before AS_OF), b (70 before), c (after AS_OF). */
export function smallOrderTable(): TransactionTable {
  const table = new TransactionTable();
  table.add("a", AS_OF - 5, 100);
  table.add("a", AS_OF - 40, 50);
  table.add("b", AS_OF - 70, 30);
  table.add("c", AS_OF + 2, 999);
  return table;
}

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
