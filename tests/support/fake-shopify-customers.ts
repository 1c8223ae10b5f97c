// The tests' fake Shopify answers metafieldsDelete and tagsAdd / tagsRemove with
// demo/fakes/shopify-customers.ts (plain Node, so the demo's fake answers with it too).
export * from "../../demo/fakes/shopify-customers";
