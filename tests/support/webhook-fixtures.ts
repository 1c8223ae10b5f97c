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

/** The shop the fixtures were captured from. */
export const FIXTURE_SHOP = "northfold-outfitters.myshopify.com";

/**
 * A fixture's text as Shopify would send it to `shop`: payloads that name their shop
 * (compliance topics, app/uninstalled) must name the delivery's shop (the intake checks).
 */
export function fixtureTextFor(name: string, shop: string): string {
  return fixtureText(name).replaceAll(FIXTURE_SHOP, shop);
}

/** A fresh copy of a webhook fixture, parsed. */
export function fixture(name: string): Json {
  return JSON.parse(fixtureText(name)) as Json;
}

/** The same as fixture(). */
export const fixtureJson = fixture;
