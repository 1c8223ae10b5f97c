import { type LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "~/shopify.server";

// OAuth callbacks, the session-token bounce page and the exit-iframe page: all handled by
// Shopify's library inside authenticate.admin.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  return null;
};
