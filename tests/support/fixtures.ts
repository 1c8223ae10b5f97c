import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const directory = fileURLToPath(new URL("../fixtures/webhooks/", import.meta.url));

export type Json = Record<string, unknown>;

/** A fresh copy of a webhook fixture (tests/fixtures/webhooks/<name>.json). */
export function fixture(name: string): Json {
  return JSON.parse(readFileSync(`${directory}${name}.json`, "utf8")) as Json;
}
