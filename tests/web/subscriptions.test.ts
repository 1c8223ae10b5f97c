import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { INTAKE_TOPICS } from "~/ingest/intake.server";
import { API_VERSION } from "~/shopify.server";

// shopify.app.toml against the code: every subscription's uri has a route module that
// exports an action, and every webhook route is subscribed. A small line reader is enough
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
    ]);
  });

  it("pins the webhook API version to the app's API version", () => {
    expect(setting("webhooks", "api_version")).toBe(API_VERSION);
    expect(API_VERSION).toBe("2026-10");
  });

  it("subscribes to every topic the issue lists, compliance topics as compliance_topics", () => {
    const topics = (compliance: boolean) =>
      subscribed.filter((s) => s.compliance === compliance).flatMap((s) => s.topics).sort();
    expect(topics(false)).toEqual(
      [
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/delete",
        "refunds/create",
        "customers/create",
        "customers/update",
        "customers/delete",
        "app/uninstalled",
        "app/scopes_update",
        "bulk_operations/finish",
      ].sort(),
    );
    expect(topics(true)).toEqual(["customers/data_request", "customers/redact", "shop/redact"].sort());
  });

  it("gives each subscription one topic and the uri /webhooks/<topic>", () => {
    for (const subscription of subscribed) {
      expect(subscription.topics).toHaveLength(1);
      expect(subscription.uri).toBe(`/webhooks/${subscription.topics[0]}`);
    }
  });

  it("has a route module exporting an action for every subscription uri, and the intake knows its topic", async () => {
    for (const { uri, topics } of subscribed) {
      const file = `app/routes/${uri.slice(1).replaceAll("/", ".")}.tsx`;
      expect(existsSync(`${root}${file}`), `${uri} → ${file}`).toBe(true);
      const route = (await import(/* @vite-ignore */ `${root}${file}`)) as { action?: unknown };
      expect(typeof route.action, `${file} exports action`).toBe("function");
      expect(INTAKE_TOPICS).toContain(topics[0]);
    }
  });

  it("subscribes every webhook route (no route left without a subscription)", () => {
    const routes = readdirSync(`${root}app/routes`).filter((name) => name.startsWith("webhooks."));
    const expected = subscribed.map(({ uri }) => `${uri.slice(1).replaceAll("/", ".")}.tsx`);
    expect(routes.sort()).toEqual(expected.sort());
  });
});
