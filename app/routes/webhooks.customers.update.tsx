import { type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { receiveWebhook } from "~/ingest/intake.server";

// customers/update (shopify.app.toml). Every webhook route is the shared intake; a GET gets its 405.
export const action = ({ request }: ActionFunctionArgs) => receiveWebhook(request);
export const loader = ({ request }: LoaderFunctionArgs) => receiveWebhook(request);
