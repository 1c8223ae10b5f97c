import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { APP_TOPICS, COMPLIANCE_TOPICS, topicOfPath, webhookUri } from "~/ingest/topics";
import { API_VERSION } from "~/shopify.server";

// shopify.app.toml against the code: its subscriptions are exactly the topic list
// (app/ingest/topics.ts), each at /webhooks/<topic>, served by the one webhook route. A small line reader is enough
// for the few keys used here (no TOML dependency).

const root = fileURLToPath(new URL("../../", import.meta.url));
const toml = readFileSync(`${root}shopify.app.toml`, "utf8");

interface Subscription {
  uri: string;
  topics: string[];
  compliance: boolean;
}

function stringList(value: string): string[] {
  return [...value.matchAll(/"([^"]*)"/g)].map((match) => match[1]);
}

function subscriptions(text: string): Subscription[] {
  const found: Subscription[] = [];
  let current: Partial<Subscription> | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line.startsWith("[")) {
      if (current) found.push(current as Subscription);
      current = line === "[[webhooks.subscriptions]]" ? { topics: [], compliance: false } : null;
      continue;
    }
    if (!current) continue;
    const [key, value] = line.split(/\s*=\s*/, 2);
    if (key === "uri") current.uri = stringList(value)[0];
    if (key === "topics") current.topics = stringList(value);
    if (key === "compliance_topics") {
      current.topics = stringList(value);
      current.compliance = true;
    }
  }
  if (current) found.push(current as Subscription);
  return found;
}

function setting(section: string, key: string): string | undefined {
  const body = toml.split(/^\[/m).find((part) => part.startsWith(`${section}]`));
  const match = body?.match(new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, "m"));
  return match?.[1];
}

const subscribed = subscriptions(toml);

describe("shopify.app.toml", () => {
  it("asks for exactly the scopes Tenure needs", () => {
    expect(setting("access_scopes", "scopes")?.split(",")).toEqual([
      "read_orders",
      "read_all_orders",
      "read_customers",
      "write_customers",
      // Product costs (issue 17): products/* need read_products; inventory_items/* and inventoryItem.unitCost read_inventory.
      "read_products",
      "read_inventory",
    ]);
  });

  it("pins the webhook API version to the app's API version", () => {
    expect(setting("webhooks", "api_version")).toBe(API_VERSION);
    expect(API_VERSION).toBe("2026-10");
  });

  it("subscribes to exactly the topics of app/ingest/topics.ts, compliance topics as compliance_topics", () => {
    const topics = (compliance: boolean) =>
      subscribed.filter((s) => s.compliance === compliance).flatMap((s) => s.topics).sort();
    expect(topics(false)).toEqual([...APP_TOPICS].sort());
    expect(topics(true)).toEqual([...COMPLIANCE_TOPICS].sort());
  });

  it("gives each subscription one topic and the uri /webhooks/<topic>", () => {
    for (const subscription of subscribed) {
      expect(subscription.topics).toHaveLength(1);
      expect(subscription.uri).toBe(webhookUri(subscription.topics[0] as (typeof APP_TOPICS)[number]));
      expect(topicOfPath(subscription.uri)).toBe(subscription.topics[0]);
    }
  });

  it("serves every webhook uri with the one splat route, which exports an action", async () => {
    const routes = readdirSync(`${root}app/routes`).filter((name) => name.startsWith("webhooks."));
    expect(routes).toEqual(["webhooks.$.tsx"]);
    const route = (await import(/* @vite-ignore */ `${root}app/routes/webhooks.$.tsx`)) as { action?: unknown };
    expect(typeof route.action).toBe("function");
  });

  it("knows no topic outside the list", () => {
    expect(topicOfPath("/webhooks/orders/paid")).toBeNull();
    expect(topicOfPath("/webhooks/")).toBeNull();
  });
});
