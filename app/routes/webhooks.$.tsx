import { type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { receiveWebhook } from "~/ingest/intake.server";
import { topicOfPath } from "~/ingest/topics";

// Every webhook subscription's uri, /webhooks/<topic> (app/ingest/topics.ts), is this one
// route: the shared intake. A path no subscription uses is 404; a GET gets the intake's 405.
function intake(request: Request, splat: string | undefined): Promise<Response> | Response {
  if (topicOfPath(splat ?? "") === null) return new Response("no such webhook", { status: 404 });
  return receiveWebhook(request);
}

export const action = ({ request, params }: ActionFunctionArgs) => intake(request, params["*"]);
export const loader = ({ request, params }: LoaderFunctionArgs) => intake(request, params["*"]);
