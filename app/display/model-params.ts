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
  gamma: "Spend: scale of customers' average order values",
};

export const UNIT_WORDS: Record<string, string> = { day: "day", week: "week", month: "month" };
