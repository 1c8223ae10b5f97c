import { count } from "./format";

// What each fitted parameter means, in words a merchant can follow (time unit: the model's).
export const PARAMETER_MEANINGS: Record<string, string> = {
  r: "Shape of how purchase rates vary between active customers",
  alpha: "Scale of purchase rates (active customers buy r/alpha times per unit on average)",
  a: "Drop-out after a purchase: with b, the chance a customer stops after any purchase (a / (a + b) on average)",
  b: "Drop-out after a purchase: see a",
  s: "Shape of how lifetimes vary between customers",
  beta: "Scale of lifetimes (customers drop out at s/beta per unit on average)",
  p: "Spend: shape of each order's value around the customer's own average",
  q: "Spend: shape of how customers' average order values vary",
  gamma: "Spend: scale of customers' average order values (the average repeat order is p × gamma / (q − 1))",
};

/**
 * The unit of each parameter: "time" (a scale in the model's time unit), "money" (a scale in
 * the shop's currency: the models are fitted on minor units, so the page converts it) or
 * "none" (a shape or a ratio, dimensionless).
 */
export const PARAMETER_UNITS: Record<string, "time" | "money" | "none"> = {
  r: "none",
  alpha: "time",
  a: "none",
  b: "none",
  s: "none",
  beta: "time",
  p: "none",
  q: "none",
  gamma: "money",
};

export const UNIT_WORDS: Record<string, string> = { day: "day", week: "week", month: "month" };

/**
 * Why the spend model's customer count can be below the repeat buyers': Gamma-Gamma learns
 * only from customers whose repeat purchases have a value above 0 (compressSpendRows).
 */
export function spendCustomersNote(spendCustomers: number, repeatBuyers: number): string {
  if (spendCustomers >= repeatBuyers) return `Fitted on all ${count(repeatBuyers)} repeat buyers.`;
  const left = repeatBuyers - spendCustomers;
  return (
    `Fitted on ${count(spendCustomers)} of the ${count(repeatBuyers)} repeat buyers: the ${count(left)} left out have repeat orders worth 0 ` +
    `(free, cancelled or refunded in full), and a spend model learns only from orders with a value.`
  );
}
