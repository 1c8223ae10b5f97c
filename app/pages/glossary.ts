import { type GlossaryShopContext } from "~/display/glossary";

// The glossary page's data as the route sees it (no server code); the loader is glossary.server.ts.

export interface GlossaryPageData {
  /** The settings definitions depend on: horizon, revenue basis, margin, currency. */
  settings: GlossaryShopContext;
  /** The merchant's own names of segments (key -> name), from Settings. */
  segmentLabels: Record<string, string>;
}
