import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { CUSTOMER_REFERENCE_PAYLOAD_KEY, FLOW_TRIGGER_FIELD_TYPES, FLOW_TRIGGERS } from "~/destinations/flow/triggers";

// Every extensions/*/shopify.extension.toml, parsed: what Shopify CLI would refuse at deploy
// (type, handle rules, targets, API version, a Flow trigger's fields) fails here first, and
// the Flow triggers declare exactly the fields app/destinations/flow/triggers.ts says the
// firing code sends.

const root = fileURLToPath(new URL("../../", import.meta.url));
const extensionsDir = `${root}extensions/`;

/** The admin UI extension API version: the installed @shopify/ui-extensions (2026.7.x) is 2026-07. */
const UI_EXTENSIONS_PACKAGE = JSON.parse(readFileSync(`${root}node_modules/@shopify/ui-extensions/package.json`, "utf8")) as { version: string };
const UI_API_VERSION = UI_EXTENSIONS_PACKAGE.version.replace(/^(\d{4})\.(\d{1,2})\..*$/, (_, year: string, month: string) => `${year}-${month.padStart(2, "0")}`);

/** Where each admin UI extension shows: its handle -> its targets. */
const UI_TARGETS: Record<string, string[]> = {
  "tenure-segment-templates": ["admin.customers.segmentation-templates.data"],
  "tenure-customer-block": ["admin.customer-details.block.render"],
  "tenure-segment-action": ["admin.customer-segment-details.action.render"],
};

interface SettingsField {
  type: string;
  key?: string;
  description?: string;
}

interface ExtensionToml {
  api_version?: string;
  extensions: {
    type: string;
    handle: string;
    name: string;
    description?: string;
    targeting?: { target: string; module: string }[];
  }[];
  settings?: { fields?: SettingsField[] };
}

const folders = readdirSync(extensionsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const tomls = folders.map((folder) => {
  const path = `${extensionsDir}${folder}/shopify.extension.toml`;
  return { folder, path, toml: existsSync(path) ? (parse(readFileSync(path, "utf8")) as unknown as ExtensionToml) : null };
});

const extensionsOf = (type: string) => tomls.flatMap(({ folder, toml }) => (toml?.extensions ?? []).filter((e) => e.type === type).map((extension) => ({ folder, toml: toml!, extension })));

describe("extensions/*/shopify.extension.toml", () => {
  it("finds the three Flow triggers and the three admin UI extensions, each folder with its toml", () => {
    expect(tomls.filter((t) => t.toml === null).map((t) => t.folder)).toEqual([]);
    expect(extensionsOf("flow_trigger").map((e) => e.extension.handle).sort()).toEqual(FLOW_TRIGGERS.map((t) => t.handle).sort());
    expect(extensionsOf("ui_extension").map((e) => e.extension.handle).sort()).toEqual(Object.keys(UI_TARGETS).sort());
  });

  it("gives every extension a known type, a name, and a handle of at most 30 letters, digits and hyphens, unique in the app and equal to its folder", () => {
    const handles = tomls.flatMap(({ toml }) => toml!.extensions.map((e) => e.handle));
    expect(new Set(handles).size).toBe(handles.length);
    for (const { folder, toml } of tomls) {
      expect(toml!.extensions, folder).toHaveLength(1);
      const [extension] = toml!.extensions;
      // flow_trigger_lifecycle_callback: tests/destinations/flow-lifecycle.test.ts checks its url.
      expect(["flow_trigger", "flow_trigger_lifecycle_callback", "ui_extension"], folder).toContain(extension.type);
      expect(extension.handle, folder).toMatch(/^[a-z0-9-]{1,30}$/);
      expect(extension.handle, "the folder is named after the handle").toBe(folder);
      expect(extension.name.trim().length, folder).toBeGreaterThan(0);
    }
  });

  it("pins every admin UI extension to the installed @shopify/ui-extensions' API version, with its targets and an existing module each", () => {
    expect(UI_API_VERSION).toMatch(/^\d{4}-(01|04|07|10)$/);
    for (const { folder, toml, extension } of extensionsOf("ui_extension")) {
      expect(toml.api_version, folder).toBe(UI_API_VERSION);
      const targeting = extension.targeting ?? [];
      expect(targeting.map((t) => t.target), folder).toEqual(UI_TARGETS[extension.handle]);
      for (const { target, module } of targeting) {
        // A target the package does not declare does not exist at this API version.
        expect(existsSync(`${root}node_modules/@shopify/ui-extensions/build/ts/surfaces/admin/targets/${target}.d.ts`), target).toBe(true);
        expect(existsSync(`${extensionsDir}${folder}/${module}`), `${folder}: ${module}`).toBe(true);
      }
    }
  });

  it("gives every Flow trigger one customer_reference and typed, described, uniquely keyed fields of the types Flow accepts", () => {
    for (const { folder, toml, extension } of extensionsOf("flow_trigger")) {
      expect(toml.api_version, "a Flow trigger has no API version").toBeUndefined();
      expect(extension.description?.length ?? 0, folder).toBeGreaterThan(0);
      const fields = toml.settings?.fields ?? [];
      expect(fields.filter((f) => f.type === "customer_reference"), folder).toEqual([{ type: "customer_reference" }]);
      const custom = fields.filter((f) => f.type !== "customer_reference");
      for (const field of custom) {
        expect(FLOW_TRIGGER_FIELD_TYPES as readonly string[], `${folder}: ${field.key}`).toContain(field.type);
        // Shopify CLI refuses a key with anything but letters and spaces.
        expect(field.key, folder).toMatch(/^[A-Za-z][A-Za-z ]*$/);
        expect(field.description?.length ?? 0, `${folder}: ${field.key}`).toBeGreaterThan(0);
      }
      expect(new Set(custom.map((f) => f.key)).size, folder).toBe(custom.length);
      // The payload's customer id and a custom key must not collide.
      expect(custom.map((f) => f.key)).not.toContain(CUSTOMER_REFERENCE_PAYLOAD_KEY);
    }
  });

  it("declares each Flow trigger exactly as app/destinations/flow/triggers.ts defines it", () => {
    for (const trigger of FLOW_TRIGGERS) {
      const found = extensionsOf("flow_trigger").find((e) => e.extension.handle === trigger.handle);
      expect(found, trigger.handle).toBeDefined();
      const { toml, extension } = found!;
      expect({ name: extension.name, description: extension.description }).toEqual({ name: trigger.name, description: trigger.description });
      expect(toml.settings?.fields).toEqual([{ type: "customer_reference" }, ...trigger.fields.map((f) => ({ type: f.type, key: f.key, description: f.description }))]);
    }
  });
});
