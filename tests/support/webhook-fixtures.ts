import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Webhook bodies as Shopify sends them (tests/fixtures/webhooks/<name>.json). Pure: unit
// tests beside the code read them too.

const directory = fileURLToPath(new URL("../fixtures/webhooks/", import.meta.url));

export type Json = Record<string, unknown>;

/** The raw text of a webhook fixture (what the HMAC is computed over). */
export function fixtureText(name: string): string {
  return readFileSync(`${directory}${name}.json`, "utf8");
}

/** A fresh copy of a webhook fixture, parsed. */
export function fixture(name: string): Json {
  return JSON.parse(fixtureText(name)) as Json;
}

/** The same as fixture(). */
export const fixtureJson = fixture;
