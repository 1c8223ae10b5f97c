import { type LoaderFunctionArgs } from "@remix-run/node";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { exportResponse, tableExportView } from "~/pages/export.server";

// GET /app/customers/export.csv?<the customer table's filters>&preset=<...>[&consent=all]:
// the table's current view as CSV, streamed (docs/exports.md). A resource route: no page.

export const loader = async ({ request, context }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const pool = pgPool();
  return exportResponse(pool, shop, await tableExportView(pool, shop, new URL(request.url).searchParams), request, context);
};
