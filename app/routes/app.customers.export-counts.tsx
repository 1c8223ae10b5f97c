import { type LoaderFunctionArgs } from "@remix-run/node";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { exportCounts, tableExportView } from "~/pages/export.server";

// GET /app/customers/export-counts?<the table's filters>: how many of the view an export
// holds and leaves out, and why (asked when the export menu opens, not on every page load).

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const pool = pgPool();
  const view = await tableExportView(pool, shop, new URL(request.url).searchParams);
  if (view instanceof Response) return { counts: null, problem: await view.text() };
  return { counts: await exportCounts(pool, shop, view), problem: null };
};
