import { type LoaderFunctionArgs } from "@remix-run/node";
import { pgPool } from "~/db/pg.server";
import { loadCustomerBlock } from "~/pages/customer-block.server";
import { authenticate } from "~/shopify.server";

// GET /api/customers/:id/metrics: the customer details block in Shopify admin
// (extensions/tenure-customer-block) reads one customer's figures here. The extension's
// fetch carries a session token as a bearer token; authenticate.admin checks it (401
// otherwise), answers the CORS preflight, and `cors` lets admin read the answer. Only the
// token's shop is read. Not a demo-mode page: the block lives in Shopify admin, which demo
// mode has no part of.

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session, cors } = await authenticate.admin(request);
  const result = await loadCustomerBlock(pgPool(), session.shop, params.id ?? "");
  return cors(Response.json(result.body, { status: result.status, headers: { "Cache-Control": "private, no-store" } }));
};
