// The tests' fake Shopify answers staged uploads and bulk mutations with the class in
// demo/fakes/shopify-bulk-mutations.ts (plain Node, so the benchmark's fake process runs it too).
export * from "../../demo/fakes/shopify-bulk-mutations";
