import { type LoaderFunctionArgs } from "@remix-run/node";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { exportCounts, segmentExportView } from "~/pages/export.server";

// GET /app/segments/<key>/export-counts: how many of the segment's customers an export holds
// and leaves out, and why; the export menu asks when it opens (a count over the segment, so
// not part of the page's own load, which reads precomputed rows only).

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const pool = pgPool();
  const view = await segmentExportView(pool, shop, params.key ?? "");
  if (view instanceof Response) return { counts: null, problem: await view.text() };
  return { counts: await exportCounts(pool, shop, view), problem: null };
};
