import { MoneyFormatError, toMinorUnitsHalfEven } from "~/analytics/money";
import { mapping, parsePayload, plausibleUpdatedAt, resolveId } from "./mappers";
import { InventoryItemPayload, ProductPayload } from "./payloads";

// Pure payload -> rows for product costs (issue 17; docs/analytics/revenue.md, "Cost of goods"):
// the variants' inventory items from products/*, a unit cost from inventory_items/*.

/** A variant's inventory item, as of the product's (or variant's) updated_at. */
export interface VariantRow {
  id: bigint;
  productId: bigint | null;
  inventoryItemId: bigint;
  shopifyUpdatedAt: Date;
}

/** A unit cost in force from `validFrom` (the item's updated_at); costMinor null: the item has no cost from then. */
export interface UnitCostRow {
  inventoryItemId: bigint;
  validFrom: Date;
  costMinor: bigint | null;
}

/** products/create, products/update -> the variants with an inventory item. */
export function mapProductPayload(payload: unknown, topic = "products/update"): VariantRow[] {
  const parsed = parsePayload(topic, ProductPayload, payload);
  return mapping(topic, () => {
    const productId = resolveId(parsed.id, parsed.admin_graphql_api_id, "product.id");
    const productUpdatedAt = plausibleUpdatedAt(parsed.updated_at, "product.updated_at");
    return parsed.variants.flatMap((variant, i) => {
      if (variant.inventory_item_id == null) return [];
      const variantUpdatedAt = variant.updated_at ? plausibleUpdatedAt(variant.updated_at, `variants.${i}.updated_at`) : null;
      return [
        {
          id: resolveId(variant.id, variant.admin_graphql_api_id, `variants.${i}.id`),
          productId,
          inventoryItemId: resolveId(variant.inventory_item_id, null, `variants.${i}.inventory_item_id`),
          // The later of the two clocks: either changing may have moved the variant.
          shopifyUpdatedAt: variantUpdatedAt && variantUpdatedAt > productUpdatedAt ? variantUpdatedAt : productUpdatedAt,
        },
      ];
    });
  });
}

/** inventory_items/create, inventory_items/update -> the unit cost in the shop's currency (Shopify sends it in the shop's default currency). */
export function mapInventoryItemPayload(payload: unknown, shopCurrency: string, topic = "inventory_items/update"): UnitCostRow {
  const parsed = parsePayload(topic, InventoryItemPayload, payload);
  return mapping(topic, () => {
    const costMinor = parsed.cost == null || String(parsed.cost).trim() === "" ? null : BigInt(toMinorUnitsHalfEven(String(parsed.cost), shopCurrency));
    if (costMinor !== null && costMinor < 0n) throw new MoneyFormatError(`inventory item ${parsed.id}: cost ${parsed.cost} is negative`);
    return {
      inventoryItemId: resolveId(parsed.id, parsed.admin_graphql_api_id, "inventory_item.id"),
      validFrom: plausibleUpdatedAt(parsed.updated_at, "inventory_item.updated_at"),
      costMinor,
    };
  });
}
