// The `shopify` global of each module, as Shopify CLI generates it for an extension.
import "@shopify/ui-extensions";
import { type Api } from "@shopify/ui-extensions/admin.customer-segment-details.action.render";

// @ts-expect-error a relative module name: Shopify CLI's way of giving one module its global
declare module "./src/SegmentAction.tsx" {
  const shopify: Api;
  const globalThis: { shopify: typeof shopify };
}
