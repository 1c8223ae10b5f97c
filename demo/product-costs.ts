import { CATALOGUE, DEMO_VENDOR, type DemoProduct, type DemoVariant } from "./catalogue";
import { type JsonObject, type RenderContext, formatAmount, formatShopTime, gid } from "./payload-basics";
import { type DemoStore } from "./store-model";

// The demo store's product costs (issue 17, profit per customer): every product's "Cost per
// item" on its variants' inventory items, sent as products/create and inventory_items/create
// before the first order, and a mid-history cost rise on the socks (inventory_items/update),
// so orders before and after it carry different costs. One product has no cost, so the
// fallback margin and the share of sales that fell back show too.

const DAY = 86_400_000;

/** Cost as a share of the price, by product type (an apparel brand's usual landed costs). */
const COST_SHARE: Record<string, number> = {
  Socks: 0.3,
  Tops: 0.36,
  Bottoms: 0.4,
  Outerwear: 0.45,
  Accessories: 0.33,
  Gear: 0.42,
  Footwear: 0.48,
  Care: 0.25,
};

/** Left without a cost in Shopify: its sales count at the fallback margin. */
export const PRODUCT_WITHOUT_COST = "Gear Repair Kit";
/** The socks' cost rises by this share halfway through the store's history. */
export const SOCK_COST_RISE = 0.12;

/** The inventory item of a variant (Shopify gives each variant its own). */
export const inventoryItemIdOf = (variant: DemoVariant) => variant.id + 1_000_000_000_000;

/** A product's unit cost in cents, or null when it has none. */
export function unitCostOf(product: DemoProduct): number | null {
  if (product.title === PRODUCT_WITHOUT_COST) return null;
  return Math.round(product.priceMinor * (COST_SHARE[product.productType] ?? 0.4));
}

export interface CostEvent {
  topic: "products/create" | "inventory_items/create" | "inventory_items/update";
  at: number;
  render: () => JsonObject;
}

/** The catalogue's product and cost deliveries for this store, in time order. */
export function costEventsOf(store: DemoStore, context: RenderContext): CostEvent[] {
  const createdAt = store.startAt - 30 * DAY;
  const riseAt = store.startAt + Math.round((store.endAt - store.startAt) / 2);
  const events: CostEvent[] = [];
  CATALOGUE.forEach((product, index) => {
    const at = createdAt + index * 60_000;
    events.push({ topic: "products/create", at, render: () => renderProduct(product, at, context) });
    const cost = unitCostOf(product);
    for (const variant of product.variants) {
      events.push({ topic: "inventory_items/create", at: at + 1_000, render: () => renderInventoryItem(variant, at + 1_000, cost, context) });
      if (product.productType === "Socks" && cost !== null) {
        const raised = Math.round(cost * (1 + SOCK_COST_RISE));
        events.push({ topic: "inventory_items/update", at: riseAt, render: () => renderInventoryItem(variant, riseAt, raised, context) });
      }
    }
  });
  return events;
}

function renderProduct(product: DemoProduct, at: number, context: RenderContext): JsonObject {
  const time = formatShopTime(at, context.timezone);
  return {
    admin_graphql_api_id: gid("Product", product.id),
    body_html: null,
    created_at: time,
    handle: product.title.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
    id: product.id,
    product_type: product.productType,
    published_at: time,
    template_suffix: null,
    title: product.title,
    updated_at: time,
    vendor: DEMO_VENDOR,
    status: "active",
    published_scope: "global",
    tags: product.productType.toLowerCase(),
    variants: product.variants.map((variant, position) => ({
      admin_graphql_api_id: gid("ProductVariant", variant.id),
      barcode: null,
      compare_at_price: null,
      created_at: time,
      id: variant.id,
      inventory_policy: "deny",
      position: position + 1,
      price: formatAmount(product.priceMinor),
      product_id: product.id,
      sku: variant.sku,
      taxable: true,
      title: variant.title,
      updated_at: time,
      image_id: null,
      inventory_item_id: inventoryItemIdOf(variant),
      inventory_quantity: 100,
      old_inventory_quantity: 100,
    })),
    images: [],
    image: null,
    media: [],
    has_variants_that_requires_components: false,
    category: null,
  };
}

function renderInventoryItem(variant: DemoVariant, at: number, costMinor: number | null, context: RenderContext): JsonObject {
  const time = formatShopTime(at, context.timezone);
  return {
    id: inventoryItemIdOf(variant),
    sku: variant.sku,
    created_at: time,
    updated_at: time,
    requires_shipping: true,
    cost: costMinor === null ? null : formatAmount(costMinor),
    country_code_of_origin: null,
    province_code_of_origin: null,
    harmonized_system_code: null,
    tracked: true,
    country_harmonized_system_codes: [],
    admin_graphql_api_id: gid("InventoryItem", inventoryItemIdOf(variant)),
  };
}
