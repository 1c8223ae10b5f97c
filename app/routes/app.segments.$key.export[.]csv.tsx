import { type LoaderFunctionArgs } from "@remix-run/node";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { exportResponse, segmentExportView } from "~/pages/export.server";

// GET /app/segments/<key>/export.csv?preset=<klaviyo|mailchimp|shopify|tenure>[&consent=all]:
// the segment's customers as CSV, streamed (docs/exports.md). A resource route: no page.

export const loader = async ({ request, params, context }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const pool = pgPool();
  return exportResponse(pool, shop, await segmentExportView(pool, shop, params.key ?? ""), request, context);
};
