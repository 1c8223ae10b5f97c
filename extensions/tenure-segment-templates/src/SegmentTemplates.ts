import { type Output } from "@shopify/ui-extensions/admin.customers.segmentation-templates.data";
import { loadSegmentTemplates } from "./segment-templates";

// Tenure's segments as templates in Shopify's customer segment editor
// (admin.customers.segmentation-templates.data, a data target: no UI). The work is in
// segment-templates.ts, which is unit-tested.

export default async (): Promise<Output> => ({
  templates: await loadSegmentTemplates((query) => shopify.query(query)),
});
