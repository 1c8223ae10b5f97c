// Every figure the app shows, defined once in the owner's words (issue 13): the glossary page
// lists these, each card and column header's help text is the short form of one of them, and
// the browser test checks that every figure label on every page is one of these labels. A
// label names its horizon and whether it is revenue or profit; a new figure gets a term here
// first. No server code: components, pages and tests import it.
import { BEHAVIOURAL_SEGMENT_KEYS, behaviouralSegmentDefinitions } from "~/analytics/behaviour";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";

/** What a figure is measured in. */
export type GlossaryUnit = "money" | "percent" | "days" | "months" | "count" | "date" | "score" | "number" | "none";

/**
 * For money: "revenue" or "profit" when always so; "page" when it follows the page's money
 * basis (profit with a margin set and the toggle on profit, else revenue). "cost": money you
 * spend (CAC), set in Settings. "none": not money.
 */
export type GlossaryBasis = "revenue" | "profit" | "page" | "cost" | "none";

export type GlossarySection = "money" | "customers" | "predictions" | "segments" | "cohorts" | "model" | "sync" | "integrations" | "settings";

export const GLOSSARY_SECTIONS: readonly { key: GlossarySection; title: string; intro: string }[] = [
  { key: "money", title: "Money", intro: "What Tenure counts as revenue and profit, and how it matches Shopify's reports." },
  { key: "customers", title: "Customers and orders", intro: "Figures from the orders customers have placed so far." },
  { key: "predictions", title: "Predictions", intro: "Figures from the model fitted to your shop's order history: what customers are expected to do next." },
  { key: "segments", title: "Segments", intro: "Groups of customers. Each customer is in one RFM segment and in any number of behavioural segments." },
  { key: "cohorts", title: "Cohorts", intro: "Customers grouped by the month of their first order, in your shop's time zone." },
  { key: "model", title: "Model", intro: "How the prediction model was chosen and how well it predicted a period it had not seen." },
  { key: "sync", title: "Sync status", intro: "How current Tenure's copy of your orders is." },
  { key: "integrations", title: "Integrations", intro: "The email tools your segments go to, and what each sync sent." },
  { key: "settings", title: "Settings", intro: "The assumptions you set; figures that depend on them say so." },
];

/** The shop's settings a definition can depend on (the glossary page fills them in). */
export interface GlossaryShopContext {
  horizonDays: number;
  /** What counts as revenue: Shopify's net sales (default) or total sales. */
  revenueBasis: "net_sales" | "total_sales";
  /** 1 = no margin set (profit figures are not offered). */
  grossMargin: number;
  currency: string;
  /** Product costs as of the last refit (issue 17): share of net sales with a known cost, gross profit over net sales. */
  costs?: { coverage: number | null; profitMargin: number | null } | null;
}

export interface GlossaryTerm {
  /** The anchor on the glossary page (/app/glossary#id) and the key components pass. */
  id: string;
  section: GlossarySection;
  /** The labels the app shows for this figure; the first is the term's name (the glossary's heading). */
  labels: readonly string[];
  /** Labels with a number in them (a horizon, a period), matched whole. */
  patterns?: readonly RegExp[];
  /** One to three sentences, in the owner's words. */
  definition: string;
  unit: GlossaryUnit;
  basis: GlossaryBasis;
  /** How the term reads for this shop's settings, when it depends on them (the glossary page shows it). */
  inYourShop?: (shop: GlossaryShopContext) => string;
}

// ------------------------------------------------------------------ labels that carry a horizon

/** "12 months" for 365 days (24 for 730, …), "6 months" for 180, else "N days": the horizon as labels name it. */
export function horizonText(horizonDays: number): string {
  if (!Number.isInteger(horizonDays) || horizonDays <= 0) throw new RangeError(`horizon ${horizonDays} must be a whole number of days above 0`);
  if (horizonDays % 365 === 0) return `${(horizonDays / 365) * 12} months`;
  if (horizonDays === 180) return "6 months";
  return horizonDays === 1 ? "1 day" : `${horizonDays} days`;
}

/** "Expected spend, next 12 months": the label of expected spend over the shop's horizon. */
export function expectedSpendLabel(horizonDays: number): string {
  return `Expected spend, next ${horizonText(horizonDays)}`;
}

/** The money basis a page shows, as labels name it. */
export type MoneyBasis = "revenue" | "profit";

/** A money label with its basis when the page could show either: "Spent to date (profit)". */
export function withBasis(label: string, basis: MoneyBasis | null): string {
  return basis === null ? label : `${label} (${basis})`;
}

const HORIZON = String.raw`next (?:\d+ months|\d+ days?)`;

function percentText(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

// ------------------------------------------------------------------ the terms

const TERMS: GlossaryTerm[] = [
  // Money
  {
    id: "revenue",
    section: "money",
    labels: ["Revenue", "Net revenue"],
    definition:
      "The money your customers' orders brought in, after discounts and refunds. By default Tenure counts net sales, as Shopify's reports do; Settings can switch it to total sales. Test orders and orders you exclude in Settings never count.",
    unit: "money",
    basis: "revenue",
    inYourShop: (s) => `Your shop counts ${s.revenueBasis === "net_sales" ? "net sales" : "total sales"} as revenue.`,
  },
  {
    id: "net-sales",
    section: "money",
    labels: ["Net sales"],
    definition:
      "Shopify's definition: gross sales (product price × quantity) minus discounts minus returns. No tax, no shipping, no duties. This is the figure Shopify Analytics shows as net sales, so Tenure's totals can be checked against it.",
    unit: "money",
    basis: "revenue",
  },
  {
    id: "total-sales",
    section: "money",
    labels: ["Total sales"],
    definition:
      "Shopify's definition: net sales plus taxes, duties and shipping charges, which Tenure reads as the order's current total after refunds. Choose it in Settings if you prefer to count what customers paid in full.",
    unit: "money",
    basis: "revenue",
  },
  {
    id: "revenue-basis",
    section: "money",
    labels: ["Revenue basis", "What counts as revenue", "Counted as revenue"],
    definition: "The Settings choice of what Tenure counts as revenue: net sales (the default, as in Shopify's reports) or total sales.",
    unit: "none",
    basis: "none",
    inYourShop: (s) => (s.revenueBasis === "net_sales" ? "Net sales (the default)." : "Total sales."),
  },
  {
    id: "profit",
    section: "money",
    labels: ["Profit", "Gross profit"],
    definition:
      "Net sales − cost of goods, each product at the cost per item Shopify had when the order was placed (products without a cost count at the margin in Settings). Predictions show as profit at your shop's profit margin to date, and profit is the default where costs are known for at least 80% of net sales. Without any cost, profit is revenue × your gross margin from Settings.",
    unit: "money",
    basis: "profit",
    inYourShop: (s) =>
      s.costs?.profitMargin != null && (s.costs.coverage ?? 0) > 0
        ? `Your profit margin to date is ${percentText(s.costs.profitMargin)}; product costs are known for ${percentText(s.costs.coverage ?? 0)} of net sales.`
        : s.grossMargin < 1
          ? `Profit = revenue × ${percentText(s.grossMargin)}.`
          : "No product costs and no margin are set, so Tenure shows revenue only.",
  },
  {
    id: "money-basis",
    section: "money",
    labels: ["Money basis", "Show amounts as"],
    definition:
      "The switch on each page between revenue and profit. Every money figure on the page follows it, so cards side by side are always in the same unit.",
    unit: "none",
    basis: "none",
  },
  {
    id: "revenue-in-period",
    section: "money",
    labels: ["Revenue, last 30 days"],
    patterns: [/^(?:Net revenue|Revenue|Net sales|Total sales|Profit), last \d+ days$/],
    definition: "Revenue (or profit) from the orders placed in the last days named, against the same number of days before.",
    unit: "money",
    basis: "page",
  },
  {
    id: "revenue-share",
    section: "money",
    labels: ["Revenue share", "Share of revenue"],
    definition: "The segment's part of the revenue all customers have brought in to date.",
    unit: "percent",
    basis: "revenue",
  },
  {
    id: "revenue-by-segment",
    section: "money",
    labels: ["Revenue by segment", "Profit by segment"],
    definition: "What the customers of each RFM segment have spent to date, added up.",
    unit: "money",
    basis: "page",
  },

  // Customers and orders
  {
    id: "customers",
    section: "customers",
    labels: ["Customers", "Customer", "Customers fitted"],
    definition: "Customers with at least one counted order. Customers whose only orders were cancelled or fully refunded get no predicted figures.",
    unit: "count",
    basis: "none",
  },
  {
    id: "orders",
    section: "customers",
    labels: ["Orders", "Order"],
    definition: "Orders that count: not test orders, and not excluded by your Settings (order tags, customer tags, sales channels).",
    unit: "count",
    basis: "none",
  },
  {
    id: "repeat-purchase-rate",
    section: "customers",
    labels: ["Repeat purchase rate"],
    definition: "Customers with two or more orders, as a share of customers with at least one order.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "benchmark",
    section: "customers",
    labels: ["Benchmark", "Niche", "Repeat purchase rate by niche (indicative)"],
    definition:
      "Published repeat purchase rates of other shops, by niche, with their source. Only indicative: shops measure over different periods and customers.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "orders-per-customer",
    section: "customers",
    labels: ["Orders per customer"],
    definition: "Counted orders divided by customers.",
    unit: "number",
    basis: "none",
  },
  {
    id: "aov",
    section: "customers",
    labels: ["Average order value", "AOV"],
    definition:
      "Revenue divided by orders: what an order has been worth so far. For one customer it is their own average; compare expected order value, the model's estimate of their next orders.",
    unit: "money",
    basis: "page",
  },
  {
    id: "median-days-between-orders",
    section: "customers",
    labels: ["Median days between orders"],
    definition: "The middle of the gaps between one order and the same customer's next, over all repeat orders: half the gaps are shorter.",
    unit: "days",
    basis: "none",
  },
  {
    id: "spent-to-date",
    section: "customers",
    labels: ["Spent to date", "Average spent to date", "Avg spent to date"],
    definition: "A customer's revenue so far: their counted orders after discounts and refunds. For a group, the average per customer.",
    unit: "money",
    basis: "page",
  },
  {
    id: "gross-profit-to-date",
    section: "customers",
    labels: ["Gross profit to date"],
    definition:
      "A customer's net sales so far minus the cost of goods of what they kept, each product at the cost per item Shopify had when the order was placed; sales of products without a cost count at the fallback margin. Shown once product costs are known.",
    unit: "money",
    basis: "profit",
  },
  {
    id: "days-since-last-order",
    section: "customers",
    labels: ["Days since last order"],
    definition: "Days from the customer's last counted order to the date the figures were computed.",
    unit: "days",
    basis: "none",
  },
  {
    id: "first-order",
    section: "customers",
    labels: ["First order"],
    definition: "The date of the customer's first counted order, in your shop's time zone. Cohorts group customers by its month.",
    unit: "date",
    basis: "none",
  },
  {
    id: "last-order",
    section: "customers",
    labels: ["Last order"],
    definition: "The date of the customer's latest counted order, in your shop's time zone.",
    unit: "date",
    basis: "none",
  },
  {
    id: "order-date",
    section: "customers",
    labels: ["Date", "Details"],
    definition: "On a customer's order list: when each order was placed, in your shop's time zone, and what it was (status, sales channel, discount code, products).",
    unit: "date",
    basis: "none",
  },
  {
    id: "order-total",
    section: "customers",
    labels: ["Shopify's order total"],
    definition:
      "On a customer's order list: the order's total as Shopify shows it now, after edits and refunds, with tax and shipping. Shopify's figure, not Tenure's, so it stays revenue when the page shows profit; what Tenure counts for the order is under Counts as.",
    unit: "money",
    basis: "revenue",
  },
  {
    id: "order-counts-as",
    section: "customers",
    labels: ["Counts as"],
    definition:
      "On a customer's order list: what Tenure counts for the order, its net sales or total sales as Settings say (zero for test and excluded orders), or the profit on it when the page shows profit.",
    unit: "money",
    basis: "page",
  },

  {
    id: "sales-channel",
    section: "customers",
    labels: ["Sales channel", "Sales channels", "Channel", "Sales channel of the first order"],
    definition: "Where the order was placed: Online Store, Point of Sale, Draft orders, or an app (named where known, else \"Other app\" with its id).",
    unit: "none",
    basis: "none",
  },

  // Acquisition drivers, reorder timing and seasonality (issue 17; docs/analytics/acquisition.md)
  {
    id: "first-product",
    section: "customers",
    labels: ["First product", "Product of the first order"],
    definition: "The first line item of a customer's first order: the product that brought them in.",
    unit: "none",
    basis: "none",
  },
  {
    id: "first-discount-code",
    section: "customers",
    labels: ["First discount code", "Discount code of the first order", "No code"],
    definition: "The discount code a customer used on their first order; No code when they paid full price.",
    unit: "none",
    basis: "none",
  },
  {
    id: "marketing-source",
    section: "customers",
    labels: ["Marketing source", "Marketing source of the first order"],
    definition:
      "Where the visit that led to a customer's first order came from: its UTM source and medium (\"google / cpc\"), else the site that referred it, else direct. Unknown for orders without an online visit (Point of Sale, draft orders).",
    unit: "none",
    basis: "none",
  },
  {
    id: "first-order-month",
    section: "cohorts",
    labels: ["Month of the first order", "Seasonality"],
    definition:
      "Customers grouped by the month of the year of their first order, whatever the year: compare customers first won in the holiday season with the rest.",
    unit: "none",
    basis: "none",
  },
  {
    id: "repeat-within-days",
    section: "customers",
    labels: ["Repeat within 90 days", "Repeat within 365 days"],
    definition:
      "Of the customers whose first order was at least 90 (or 365) days ago, the share who placed a second order within 90 (or 365) days of it (the first order's day is day 1), with its 95 % interval in brackets. Customers too new to tell are left out, so a value won lately is not made to look worse.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "repeat-rate-interval",
    section: "customers",
    labels: ["95 % interval", "Repeat purchase rate, 95 % interval"],
    definition:
      "The range the repeat purchase rate of customers like these would fall in 95 times out of 100 (Wilson's interval): wide for a few customers, narrow for many. Two groups whose ranges overlap may not really differ.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "median-days-to-second-order",
    section: "customers",
    labels: ["Median days to 2nd order", "Days to 2nd order"],
    definition: "Of the customers who ordered a second time, the middle of the days from their first order to their second: half came back sooner.",
    unit: "days",
    basis: "none",
  },
  {
    id: "holiday-season",
    section: "settings",
    labels: ["Holiday season"],
    definition:
      "The days of the year that count as your holiday season for the segment Holiday-season first buyers (Nov 15 to Dec 31 unless you change it in Settings). A season may run over the new year.",
    unit: "date",
    basis: "none",
  },
  {
    id: "reorder-timing",
    section: "customers",
    labels: ["Time between orders", "Reorders", "Median days", "25th–75th percentile", "Step"],
    patterns: [/^Within \d+ days$/, /^(?:1st|2nd|3rd) to \d(?:st|nd|rd|th) order(?: and later)?$/],
    definition:
      "Days from one order to the same customer's next, per step (1st to 2nd order, 2nd to 3rd, later ones together). Within 30 days: of the orders at least 30 days old, the share followed by the next order within 30 days.",
    unit: "days",
    basis: "none",
  },

  // Predictions
  {
    id: "expected-spend",
    section: "predictions",
    labels: ["Expected spend", "Average expected spend", "Avg expected spend"],
    patterns: [new RegExp(`^(?:Average |Avg )?Expected spend, ${HORIZON}$`, "i")],
    definition:
      "What the customer is expected to spend over the horizon in Settings (12 months unless you changed it): expected orders × expected order value, discounted monthly. It is not a lifetime figure; lifetime value adds what they spent to date.",
    unit: "money",
    basis: "page",
    inYourShop: (s) => `Your horizon: the next ${horizonText(s.horizonDays)}.`,
  },
  {
    id: "lifetime-value",
    section: "predictions",
    labels: ["Lifetime value", "Average lifetime value", "Avg lifetime value", "LTV"],
    definition:
      "Spent to date + expected spend over the horizon: what a customer has brought in so far and is expected to bring in next. The dashboard's average takes both parts over the same customers, those with a prediction.",
    unit: "money",
    basis: "page",
    inYourShop: (s) => `Spent to date + expected spend over the next ${horizonText(s.horizonDays)}.`,
  },
  {
    id: "chance-of-ordering-90d",
    section: "predictions",
    labels: ["Chance of ordering, next 90 days", "Average chance of ordering, next 90 days", "Avg chance of ordering, next 90 days"],
    definition:
      "The chance that the customer places at least one order in the next 90 days, from the fitted model and their own order history. The headline figure for who is slipping away: low means unlikely to come back soon.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "chance-of-ordering-12m",
    section: "predictions",
    labels: ["Chance of ordering, next 12 months", "Average chance of ordering, next 12 months", "Avg chance of ordering, next 12 months"],
    definition: "The chance that the customer places at least one order in the next 12 months, from the same model as the 90-day figure.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "p-alive",
    section: "predictions",
    labels: ["P(alive)", "Avg P(alive)", "Average P(alive)", "P(alive) over time"],
    definition:
      "The model's chance that the customer has not stopped buying for good. Under the modified BG/NBD model (the Model page says which model your shop uses) a customer may stop after any order, so it is below 100% even right after an order. It does not say they will order soon: chance of ordering does.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "expected-order-value",
    section: "predictions",
    labels: ["Expected order value"],
    definition:
      "The model's estimate of what this customer's future orders are worth: their own average order value pulled towards the shop's average, the more so the fewer orders they have. So it differs from their average order value.",
    unit: "money",
    basis: "page",
  },
  {
    id: "expected-orders",
    section: "predictions",
    labels: ["Expected orders"],
    patterns: [/^Expected orders, next (?:\d+ days|\d+ months)$/],
    definition: "How many orders the model expects from the customer over the period named; a fraction, like an average over many customers like them.",
    unit: "number",
    basis: "none",
  },
  {
    id: "expected-next-order",
    section: "predictions",
    labels: ["Expected next order"],
    definition: "The date by which the model expects the customer's next order, if they are still buying; blank when the model does not expect one.",
    unit: "date",
    basis: "none",
  },
  {
    id: "estimate-from-averages",
    section: "predictions",
    labels: ["Estimate from averages"],
    patterns: [new RegExp(`^Expected spend, ${HORIZON}, each customer$`, "i")],
    definition:
      "For shops with too little history for the model: your average order value × repeat orders per customer per year × the horizon (never longer than your oldest customer has been with you), the simple formula most CLV guides teach. The same for every customer, and labelled as such; the model's figures take over once there is enough history.",
    unit: "money",
    basis: "page",
  },
  {
    id: "repeat-orders-per-year",
    section: "predictions",
    labels: ["Repeat orders per customer per year"],
    definition:
      "Part of the estimate from averages: the orders after each customer's first, divided by the years since their first orders, added over all customers. Customers who stopped buying count too, with their quiet time.",
    unit: "number",
    basis: "none",
  },
  {
    id: "observed-lifespan",
    section: "predictions",
    labels: ["Observed lifespan"],
    definition: "Part of the estimate from averages: the longest any customer has been with the shop, since the earliest first order. The estimate never carries the repeat rate further than that.",
    unit: "days",
    basis: "none",
  },
  {
    id: "trend-30d",
    section: "segments",
    labels: ["Trend (30 days)", "30 days ago"],
    definition: "The segment's customers now against 30 days earlier. Blank until Tenure has figures from 30 days ago, so always blank in the first month after install.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "checkout-started",
    section: "segments",
    labels: ["Checkout started"],
    definition: "The day the customer's latest abandoned checkout began, in your shop's time zone. The 30 days of Cart abandoners count from it.",
    unit: "date",
    basis: "none",
  },
  {
    id: "recovery-link",
    section: "segments",
    labels: ["Recovery link"],
    definition:
      "Shopify's link that brings the customer back to their checkout with the cart as they left it (abandoned_checkout_url): put it in a reminder. Shopify's own recovery emails use the same link.",
    unit: "none",
    basis: "none",
  },
  {
    id: "left-in-carts",
    section: "segments",
    labels: ["Left in carts", "Cart value"],
    definition:
      "What cart abandoners' checkouts were worth when they left: each customer's latest abandoned checkout in the last 30 days, its total as Shopify showed it (taxes and shipping included, discounts taken off), counted once per customer. A checkout priced in another currency than your shop's has no figure here.",
    unit: "money",
    basis: "revenue",
  },

  // Segments
  {
    id: "rfm",
    section: "segments",
    labels: ["RFM segment", "RFM segments", "Segment", "Scores", "RFM segment rules"],
    definition:
      "Recency (days since last order), frequency (orders) and monetary value (spent to date), each scored 1 to 5 against your own customers (5 is the best fifth). Each combination of scores names one segment.",
    unit: "score",
    basis: "none",
  },
  { id: "recency", section: "segments", labels: ["Recency (R)", "Recency", "R (recency)"], definition: "1 to 5 by days since the last order: 5 is the most recent fifth of your customers.", unit: "score", basis: "none" },
  { id: "frequency", section: "segments", labels: ["Frequency (F)", "Frequency", "F (frequency)"], definition: "1 to 5 by number of orders: 5 is the fifth with the most orders.", unit: "score", basis: "none" },
  { id: "monetary", section: "segments", labels: ["Monetary (M)", "Monetary", "M (money)"], definition: "1 to 5 by spent to date: 5 is the fifth who spent the most.", unit: "score", basis: "none" },
  {
    id: "frequency-monetary",
    section: "segments",
    labels: ["(F+M)/2"],
    definition: "The average of the frequency and monetary scores, which some segment rules use: how much a customer has bought, whether in many orders or a few large ones.",
    unit: "score",
    basis: "none",
  },
  {
    id: "behaviour",
    section: "segments",
    labels: ["Behaviour", "Behaviours", "Behavioural segment", "Behavioural segments"],
    definition: "Segments by how customers buy (repeat, discounts, order value, expected value). A customer can be in several at once.",
    unit: "none",
    basis: "none",
  },
  {
    id: "share",
    section: "segments",
    labels: ["Share", "Share of customers", "Customers by segment"],
    definition: "The segment's customers as a share of all customers with an order.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "segment-changes",
    section: "segments",
    labels: ["What moved", "Latest segment changes", "Segment history", "From", "To", "When"],
    patterns: [/^What moved (?:in the last \d+ days|this week)$/],
    definition: "Customers moving from one RFM segment to another when their orders or the passing days change their scores.",
    unit: "count",
    basis: "none",
  },

  // Cohorts
  {
    id: "cohort",
    section: "cohorts",
    labels: ["Cohort", "Cohorts", "Small"],
    definition:
      "Customers whose first order fell in the same month (your shop's time zone). A small cohort has too few customers for its percentages to mean much; it is drawn muted.",
    unit: "count",
    basis: "none",
  },
  {
    id: "retention",
    section: "cohorts",
    labels: ["Retention by month of first order", "Ordered in month", "Came back by month", "Retention"],
    patterns: [/^M\d+$/, /^Month \d+$/],
    definition:
      "Ordered in month k: the share of the cohort that placed an order in the k-th month after the month of their first order (M0 is that month itself). Came back by month k: the share that had ordered again by then.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "cohort-ltv",
    section: "cohorts",
    labels: ["Lifetime value per customer", "LTV per customer", "Month"],
    patterns: [/^LTV at \d+ days$/, /^\d+ days$/],
    definition:
      "Revenue per cohort customer from their first order up to the day named, counting only cohorts old enough for every customer to have had that many days. So it covers fewer, older customers than the average spent to date, and can differ from it.",
    unit: "money",
    basis: "page",
  },
  {
    id: "cac",
    section: "cohorts",
    labels: ["CAC", "CAC (settings)", "Customer acquisition cost (CAC)", "Customer acquisition cost"],
    definition: "What you spend to win one new customer, from Settings. Used for payback and LTV:CAC only.",
    unit: "money",
    basis: "cost",
  },
  {
    id: "payback",
    section: "cohorts",
    labels: ["Payback", "Payback month"],
    definition: "The month after the first order in which a customer's gross profit has paid back the CAC. Month 0 is the month of the first order.",
    unit: "months",
    basis: "profit",
  },
  {
    id: "ltv-to-cac",
    section: "cohorts",
    labels: ["LTV:CAC"],
    patterns: [/^LTV:CAC at \d+ days$/],
    definition: "Gross profit per customer up to the day named, divided by the CAC. Above 1, a customer has paid back what it cost to win them.",
    unit: "number",
    basis: "profit",
  },

  // Model
  {
    id: "count-model",
    section: "model",
    labels: ["Chosen model", "Candidate", "Model"],
    patterns: [/^Chosen model: .+$/],
    definition:
      "The model of how often customers order and when they stop (BG/NBD, modified BG/NBD or Pareto/NBD). Tenure fits each to your whole history and keeps the one that fits it best (higher log-likelihood, counting only the parameters the data identify; a tie goes to the simpler model); the backtest then checks the chosen one on a held-out period.",
    unit: "none",
    basis: "none",
  },
  {
    id: "log-likelihood",
    section: "model",
    labels: ["Log-likelihood", "Log-likelihood (higher fits better)"],
    definition: "How well a model explains the order history it was fitted on; higher is better. Compare it only between models of the same shop and data.",
    unit: "number",
    basis: "none",
  },
  {
    id: "drop-out-edge",
    section: "model",
    labels: ["Drop-out"],
    definition:
      "Whether the order history tells when customers stop buying. When it does not (almost nobody seems to leave), the model's drop-out parameters run to their limit and it behaves like the plain NBD, a model without drop-out: the page says so and gives the plain NBD's log-likelihood. Such a model counts as the simpler 2-parameter model when candidates are compared, and gives everyone a P(alive) near 100%; when every customer seems equally likely to stop, the page says \"Drop-out the same for every customer (p = …)\", a 3-parameter model with one drop-out probability p (μ, a rate, for Pareto/NBD).",
    unit: "none",
    basis: "none",
  },
  {
    id: "choice-tie",
    section: "model",
    labels: ["Tie"],
    definition:
      "When the best candidates differ by less than the noise (holdout errors within the lowest one's standard error, or equal likelihoods once the parameters the data identify are counted), the difference is no evidence: the simpler model is chosen (fewer effective parameters, then BG/NBD, modified BG/NBD, Pareto/NBD in that order).",
    unit: "none",
    basis: "none",
  },
  {
    id: "candidate-parameters",
    section: "model",
    labels: ["Candidate parameters", "Fitted on the whole history", "Fitted on the calibration period"],
    definition:
      "The fitted numbers of every candidate model, not only the chosen one. When the choice used a holdout, each candidate was also fitted on the orders before the cut-off (the calibration period); its holdout error comes from that fit.",
    unit: "number",
    basis: "none",
  },
  {
    id: "holdout",
    section: "model",
    labels: ["Holdout", "Holdout period", "Calibration period", "Calibration", "Backtest", "Backtest: predicted vs actual repeat purchases"],
    definition:
      "The backtest fits the model on the orders before a cut-off (calibration) and predicts the repeat orders after it (holdout), which it has not seen; then compares the prediction with what customers really did.",
    unit: "days",
    basis: "none",
  },
  {
    id: "holdout-error",
    section: "model",
    labels: ["Holdout error per customer", "Error per customer"],
    definition: "The average gap, in orders, between the repeat orders predicted for each customer in the holdout and those they placed. Lower is better.",
    unit: "number",
    basis: "none",
  },
  {
    id: "backtest-purchases",
    section: "model",
    labels: ["Repeat purchases in holdout, actual", "Predicted", "Actual", "Repeat purchases"],
    definition: "Repeat orders placed in the holdout period, and how many the model fitted before it predicted.",
    unit: "count",
    basis: "none",
  },
  {
    id: "holdout-by-past-orders",
    section: "model",
    labels: [
      "Holdout orders by past repeat orders",
      "Repeat orders before the cut-off",
      "Holdout orders per customer, actual",
      "Holdout orders per customer, predicted",
    ],
    definition:
      "The backtest's customers grouped by the repeat orders they placed before the cut-off (0 to 6, then 7 or more), with the orders each group placed per customer in the holdout and the number the model predicted. A model can match the total and still miss light or heavy buyers; this is where it shows (Fader, Hardie & Lee 2005).",
    unit: "count",
    basis: "none",
  },
  {
    id: "holdout-order-value",
    section: "model",
    labels: ["Order value error, holdout", "Order value bias, holdout", "Expected order value, holdout", "Actual order value, holdout"],
    definition:
      "The spend model, fitted on the orders before the cut-off, against the average value of the orders placed in the holdout by customers who had already ordered more than once. Error is the average gap whatever its sign; bias is the average of expected minus actual, above zero when the model expected larger orders than came.",
    unit: "money",
    basis: "revenue",
  },
  {
    id: "model-parameters",
    section: "model",
    labels: ["Parameters", "Parameter", "Value", "Unit", "Meaning", "Spend (Gamma-Gamma)", "Converged"],
    definition:
      "The fitted numbers of the models. The spend model (Gamma-Gamma) is fitted on repeat customers only, and its spend parameters are in your currency.",
    unit: "number",
    basis: "none",
  },
  {
    id: "fit-dates",
    section: "model",
    labels: ["Data as of", "Fitted"],
    definition: "The last day of order history the model saw, and when it was fitted (nightly, after imports and after Settings change).",
    unit: "date",
    basis: "none",
  },
  {
    id: "assumptions",
    section: "model",
    labels: ["Assumptions"],
    definition: "What every prediction assumes: the horizon, the gross margin, the discount rate, the time unit and the money basis.",
    unit: "none",
    basis: "none",
  },

  // Sync status
  {
    id: "webhook",
    section: "sync",
    labels: ["Last webhook received", "Live updates", "Received", "Topic"],
    definition: "Shopify sends each new or changed order and customer to Tenure within seconds (a webhook). The time shown is when the latest arrived.",
    unit: "date",
    basis: "none",
  },
  {
    id: "reconciliation",
    section: "sync",
    labels: ["Last reconciliation", "Order import"],
    definition: "A regular sweep that re-reads orders changed in Shopify since the last one, to catch anything a webhook missed. The import reads every order once after install.",
    unit: "date",
    basis: "none",
  },
  {
    id: "refit",
    section: "sync",
    labels: ["Last refit"],
    definition: "When Tenure last refitted the models and rescored every customer: nightly, after an import, after many new orders and after Settings change.",
    unit: "date",
    basis: "none",
  },
  {
    id: "pending-deliveries",
    section: "sync",
    labels: ["Waiting to be processed"],
    definition: "Updates from Shopify that are stored but not yet applied; normally a handful for a few seconds.",
    unit: "count",
    basis: "none",
  },
  {
    id: "failed-deliveries",
    section: "sync",
    labels: ["Failed deliveries", "Attempts", "Reason"],
    definition: "Updates from Shopify that could not be applied after retries, each with its reason. The reconciliation sweep or a re-import reads those orders again.",
    unit: "count",
    basis: "none",
  },
  {
    id: "dropped-updates",
    section: "sync",
    labels: ["Updates not applied", "Updates", "Why", "Last one"],
    definition: "Updates Shopify sent while Tenure was not installed on your store; they were acknowledged and not stored.",
    unit: "count",
    basis: "none",
  },

  // Integrations (issue 14)
  {
    id: "destination",
    section: "integrations",
    labels: ["Email tool", "Klaviyo", "Mailchimp"],
    definition: "An email tool that receives the segments you choose: each becomes a list (Klaviyo) or a tag (Mailchimp) named \"Tenure: <segment name>\", with every customer's Tenure figures on their profile. Tenure never subscribes anyone.",
    unit: "none",
    basis: "none",
  },
  {
    id: "synced-segments",
    section: "integrations",
    labels: ["Segments to sync", "Segments synced"],
    definition: "The segments an email tool receives. Customers join the list or tag when they enter the segment and leave it when they move out, within minutes.",
    unit: "none",
    basis: "none",
  },
  {
    id: "synced-to",
    section: "integrations",
    labels: ["Synced to"],
    definition: "The email tools this segment is sent to, with its list or tag there and when Tenure last finished sending.",
    unit: "none",
    basis: "none",
  },
  {
    id: "audience",
    section: "integrations",
    labels: ["Audience"],
    definition: "The Mailchimp audience Tenure's customers and tags go to. Tenure subscribes a contact only when Shopify says they subscribed, never one who unsubscribed or bounced in Mailchimp; other new contacts are added as transactional, and Tenure never downgrades or unsubscribes anyone.",
    unit: "none",
    basis: "none",
  },
  {
    id: "consent-scope",
    section: "integrations",
    labels: ["Who is sent"],
    definition: "By default only customers subscribed to email marketing in Shopify. \"Everyone\" also sends the others, for analysis, not for sending: they are added to lists but never subscribed.",
    unit: "none",
    basis: "none",
  },
  {
    id: "last-sync",
    section: "integrations",
    labels: ["Last sync", "Sync in progress"],
    definition: "The latest pass that sent customers to the email tool: a first sync when a segment is chosen, a full sync after each refit or \"Sync now\", and small passes of changes in between.",
    unit: "date",
    basis: "none",
  },
  {
    id: "sync-sent",
    section: "integrations",
    labels: ["Sent"],
    definition: "Customers whose profile or list membership the last sync sent to the email tool. Customers whose figures and segments had not changed are not sent again.",
    unit: "count",
    basis: "none",
  },
  {
    id: "sync-failed",
    section: "integrations",
    labels: ["Failed", "Refused profiles"],
    definition: "Customers the email tool refused in the last sync (an address it thinks invalid, for example), each listed with the tool's reason. Tenure tries them again at the next full sync.",
    unit: "count",
    basis: "none",
  },
  {
    id: "left-out",
    section: "integrations",
    labels: ["Left out"],
    definition: "Customers in a synced segment that the last sync did not send because they have no email address or, unless you chose everyone, are not subscribed to email marketing.",
    unit: "count",
    basis: "none",
  },
  {
    id: "pending-changes",
    section: "integrations",
    labels: ["Pending changes"],
    definition: "Customers whose figures or segments changed since the email tool last received them; sent within minutes, kept while a sync is paused.",
    unit: "count",
    basis: "none",
  },
  {
    id: "pending-erasures",
    section: "integrations",
    labels: ["Deletions waiting"],
    definition: "Customers Shopify asked to erase whose deletion Tenure has still to request from the email tool; retried until the tool confirms.",
    unit: "count",
    basis: "none",
  },

  // Settings
  {
    id: "gross-margin",
    section: "settings",
    labels: ["Gross margin"],
    definition: "The share of revenue left after the cost of goods. With a margin below 100%, pages can show profit instead of revenue.",
    unit: "percent",
    basis: "none",
    inYourShop: (s) => (s.grossMargin < 1 ? `${percentText(s.grossMargin)}.` : "Not set (100%): figures are revenue."),
  },
  {
    id: "discount-rate",
    section: "settings",
    labels: ["Discount rate"],
    definition: "How much less money next year is worth than money today, a year's rate. Expected spend is discounted by it month by month.",
    unit: "percent",
    basis: "none",
  },
  {
    id: "horizon",
    section: "settings",
    labels: ["Horizon", "CLV horizon", "Prediction horizon"],
    definition: "How far ahead expected spend looks; labels name it (\"Expected spend, next 12 months\").",
    unit: "days",
    basis: "none",
    inYourShop: (s) => `The next ${horizonText(s.horizonDays)} (${s.horizonDays} days).`,
  },
  {
    id: "exclusions",
    section: "settings",
    labels: ["Orders that don't count", "Order tags", "Customer tags", "Excluded sales channels"],
    definition: "Orders you leave out of every figure: by order tag, by the customer's tag (for example wholesale customers) or by sales channel.",
    unit: "none",
    basis: "none",
  },
  {
    id: "time-zone",
    section: "settings",
    labels: ["Time zone", "Shop time zone"],
    definition: "Dates and times are shown in your shop's time zone, as set in Shopify; months of cohorts follow it too.",
    unit: "none",
    basis: "none",
  },
];

// Segments: their one-line definitions live with the rules (app/analytics), so a renamed or
// redefined segment cannot drift from its glossary entry. Where two lists sound alike, one
// line says how they differ.
const SEGMENT_NOTES: Readonly<Record<string, string>> = {
  "at-risk": "By scores. At-risk repeat buyers is by the model: any repeat buyer it thinks has likely stopped, whatever their scores.",
  "cant-lose-them": "The best of those At risk by orders and spend.",
  lost: "By scores. One-and-done, lost is any one-order customer gone long, whatever their spend.",
  hibernating: "Not as long gone as Lost.",
  "at-risk-repeat-buyer": "By the model, whatever their RFM segment; At risk is by scores.",
  "one-and-done-lost": "Can overlap Lost, which is by scores and also needs low spend.",
  "cart-abandoner":
    "From Shopify's checkouts, kept current as checkouts and orders arrive, and as the 30 days pass (nightly). The only behaviour a customer without orders can have.",
};

function segmentTerms(): GlossaryTerm[] {
  const rfm = Object.values(SEGMENT_DEFINITIONS).map<GlossaryTerm>((definition) => ({
    id: `segment-${definition.key}`,
    section: "segments",
    labels: [definition.name],
    definition: [definition.description, SEGMENT_NOTES[definition.key]].filter(Boolean).join(" "),
    unit: "count",
    basis: "none",
  }));
  const behaviours = behaviouralSegmentDefinitions();
  const behavioural = BEHAVIOURAL_SEGMENT_KEYS.map<GlossaryTerm>((key) => ({
    id: `segment-${key}`,
    section: "segments",
    labels: [behaviours[key].name],
    definition: [behaviours[key].description, SEGMENT_NOTES[key]].filter(Boolean).join(" "),
    unit: "count",
    basis: "none",
  }));
  return [...rfm, ...behavioural];
}

/** Every term, figures first, then one per segment. */
export const GLOSSARY: readonly GlossaryTerm[] = [...TERMS, ...segmentTerms()];

/** How a segment differs from the one it may be mistaken for (At risk and At-risk repeat buyers, Lost and One-and-done, lost), or null: shown where segments are listed. */
export function segmentNote(key: string): string | null {
  return SEGMENT_NOTES[key] ?? null;
}

/** Segment keys the notes above speak of (a test checks each still names a segment). */
export const SEGMENT_NOTE_KEYS: readonly string[] = Object.keys(SEGMENT_NOTES);

const BY_ID = new Map(GLOSSARY.map((term) => [term.id, term]));

/** The term of an id; throws on an unknown id so a typo fails at once, not as a missing help text. */
export function glossaryTerm(id: string): GlossaryTerm {
  const term = BY_ID.get(id);
  if (!term) throw new Error(`No glossary term "${id}". Terms are in app/display/glossary.ts.`);
  return term;
}

/** The glossary page's address of a term. */
export function glossaryUrl(id: string): string {
  return `/app/glossary#${glossaryTerm(id).id}`;
}

const UNIT_WORDS: Record<GlossaryUnit, string> = {
  money: "money, in your shop's currency",
  percent: "a percentage",
  days: "days",
  months: "months",
  count: "a count",
  date: "a date, in your shop's time zone",
  score: "a score from 1 to 5",
  number: "a number",
  none: "",
};

const BASIS_WORDS: Record<GlossaryBasis, string> = {
  revenue: "Always revenue.",
  profit: "Always profit (revenue × gross margin).",
  page: "Revenue or profit, as the page's money basis says.",
  cost: "A cost you set in Settings, compared with profit.",
  none: "",
};

/** "Unit: money, in your shop's currency. Revenue or profit, as …": the unit line of a help text ("" when neither applies). */
export function unitLine(term: GlossaryTerm): string {
  const unit = UNIT_WORDS[term.unit];
  return [unit ? `Unit: ${unit}.` : "", BASIS_WORDS[term.basis]].filter(Boolean).join(" ");
}

/** The short help of a term: its definition and unit line, as one text (tooltips). */
export function shortHelp(id: string): string {
  const term = glossaryTerm(id);
  return [term.definition, unitLine(term)].filter(Boolean).join(" ");
}

/** Strips what a label may carry around a term's name: a trailing basis, currency or unit in brackets. */
export function normaliseLabel(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/\s*\((?:revenue|profit|[A-Z]{3}|%|days)\)$/i, "")
    .trim();
}

/** The term a shown label belongs to, or null: a label with no term is a figure without a definition. */
export function termOfLabel(text: string): GlossaryTerm | null {
  const label = normaliseLabel(text);
  if (label === "") return null;
  const lower = label.toLowerCase();
  for (const term of GLOSSARY) {
    if (term.labels.some((l) => l.toLowerCase() === lower)) return term;
  }
  for (const term of GLOSSARY) {
    if (term.patterns?.some((pattern) => pattern.test(label))) return term;
  }
  return null;
}
