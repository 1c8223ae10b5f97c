// The `shopify` global of each module, as Shopify CLI generates it for an extension.
import "@shopify/ui-extensions";
import { type Api } from "@shopify/ui-extensions/admin.customers.segmentation-templates.data";

// @ts-expect-error a relative module name: Shopify CLI's way of giving one module its global
declare module "./src/SegmentTemplates.ts" {
  const shopify: Api;
  const globalThis: { shopify: typeof shopify };
}
