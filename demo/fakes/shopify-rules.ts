// The Shopify Admin API's rules for metafield definitions, metafields and customer segments,
// as pure functions over one shop's data: the test fake (tests/support/fake-shopify.ts) and
// the demo's fake (demo/fakes/shopify.ts) both answer with them, so the two never disagree.
// Plain TypeScript, no I/O: each function takes the shop's data and returns the mutation's
// payload (or throws FakeGraphqlErrors for a top-level GraphQL error).

import { GraphqlSyntaxError, SINGLE_QUERY_MAX_COST, maxCostExceededErrors, requestedQueryCost } from "./shopify-cost";

export { SINGLE_QUERY_MAX_COST, requestedQueryCost } from "./shopify-cost";

/** What the rules need of a fake: the app's namespace and a forced refusal of the next definition create. */
export interface FakeShopifyRules {
  /** What "$app" resolves to: "app--<app id>". */
  readonly appNamespace: string;
  /** The next metafieldDefinitionCreate answers with these userErrors (e.g. PINNED_LIMIT_REACHED). */
  definitionUserErrorsNext: { field: string[] | null; message: string; code: string }[] | null;
}

/** An empty shop: no definitions, metafields or segments. */
export function emptyShopData(): FakeShopData {
  return { definitions: [], metafields: new Map(), segments: [], deletedCustomers: new Set() };
}

// --- Metafields and segments ------------------------------------------------------------
//
// Shapes and rules from the Admin GraphQL reference (2025-10 and later):
//  - metafieldDefinitionCreate / metafieldDefinitionUpdate: payload { createdDefinition |
//    updatedDefinition, userErrors { field message code } }; a definition is identified by
//    owner type, namespace and key (TAKEN when it exists); type, namespace, key and owner type
//    cannot be updated. "$app" and "$app:<sub>" resolve to "app--<id>" and "app--<id>--<sub>".
//  - metafieldsSet: at most 25 metafields per call, atomic (nothing is written when any input
//    fails), userErrors { field message code elementIndex } with MetafieldsSetUserErrorCode.
//  - segmentCreate(name, query) / segmentUpdate(id, name, query): userErrors { field message },
//    a query error reads "Query Line 1 Column <n>: '<token>' is unexpected." as Shopify's does.
// The segment query check covers the metafield filters of the help center's table (text =
// and !=, text lists CONTAINS / NOT CONTAINS, numbers and dates compared, IS [NOT] NULL),
// joined with AND / OR: an attribute is a metafield of a CUSTOMER definition of the shop.

export interface FakeMetafieldDefinition {
  id: string;
  ownerType: string;
  namespace: string;
  key: string;
  name: string;
  description: string | null;
  type: string;
  validations: { name: string; value: string }[];
  access: { admin: string; storefront: string };
  pinnedPosition: number | null;
}

export interface FakeMetafield {
  id: string;
  ownerId: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
  updatedAt: string;
}

export interface FakeSegment {
  id: string;
  name: string;
  query: string;
  creationDate: string;
  lastEditDate: string;
}

export interface FakeShopData {
  definitions: FakeMetafieldDefinition[];
  /** ownerId -> "namespace.key" -> metafield. */
  metafields: Map<string, Map<string, FakeMetafield>>;
  segments: FakeSegment[];
  /** Customers deleted or redacted in Shopify: metafieldsSet on them fails. */
  deletedCustomers: Set<string>;
}

/** A top-level GraphQL error answer ({ errors: [...] }, no data). */
export class FakeGraphqlErrors extends Error {
  constructor(readonly errors: { message: string; path?: string[]; extensions?: Record<string, unknown> }[]) {
    super(errors.map((error) => error.message).join("; "));
  }
}

let fakeIds = 0;
export const nextId = (type: string) => `gid://shopify/${type}/${Date.now() % 1_000_000_000}${(fakeIds += 1)}`;

export const METAFIELDS_SET_LIMIT = 25;
const SCALAR_TYPES = new Set([
  "single_line_text_field", "multi_line_text_field", "number_integer", "number_decimal", "date", "date_time", "boolean",
  "json", "url", "color", "rating", "money", "weight", "volume", "dimension",
]);
const KEY = /^[A-Za-z0-9_-]+$/;
const NUMBER_DECIMAL = /^[-+]?\d+(\.\d+)?$/;
const NUMBER_INTEGER = /^[-+]?\d+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

export function isKnownType(type: string): boolean {
  return SCALAR_TYPES.has(type) || (type.startsWith("list.") && SCALAR_TYPES.has(type.slice(5)) && type !== "list.boolean");
}

export function resolveNamespace(fake: FakeShopifyRules, namespace: string): string {
  if (namespace === "$app") return fake.appNamespace;
  if (namespace.startsWith("$app:")) return `${fake.appNamespace}--${namespace.slice(5)}`;
  return namespace;
}

export function definitionNode(definition: FakeMetafieldDefinition) {
  return {
    id: definition.id,
    ownerType: definition.ownerType,
    namespace: definition.namespace,
    key: definition.key,
    name: definition.name,
    description: definition.description,
    type: { name: definition.type, category: definition.type.replace(/^list\./, "") },
    validations: definition.validations.map((validation) => ({ name: validation.name, type: "json", value: validation.value })),
    access: { admin: definition.access.admin, storefront: definition.access.storefront, customerAccount: "NONE" },
    pinnedPosition: definition.pinnedPosition,
  };
}

export type DefinitionInput = Record<string, unknown> & {
  ownerType?: string;
  namespace?: string;
  key?: string;
  type?: string;
  name?: string;
  description?: string | null;
  validations?: { name: string; value: string }[];
  access?: { admin?: string; storefront?: string };
  pin?: boolean;
};

export type UserError = { field: string[] | null; message: string; code: string; elementIndex?: number | null };

function definitionInputErrors(fake: FakeShopifyRules, input: DefinitionInput, type: string, creating: boolean): UserError[] {
  const errors: UserError[] = [];
  const namespace = input.namespace ?? "$app";
  const resolved = resolveNamespace(fake, namespace);
  if (resolved.startsWith("app--") && !resolved.startsWith(fake.appNamespace)) {
    errors.push({ field: ["definition", "namespace"], message: "Namespace is reserved for another app.", code: "INVALID" });
  } else if (resolved.length < 2 || resolved.length > 255 || !KEY.test(resolved)) {
    errors.push({ field: ["definition", "namespace"], message: "Namespace is invalid.", code: "INVALID" });
  }
  const key = input.key ?? "";
  if (key.length < 2) errors.push({ field: ["definition", "key"], message: "Key is too short (minimum is 2 characters)", code: "TOO_SHORT" });
  else if (key.length > 64) errors.push({ field: ["definition", "key"], message: "Key is too long (maximum is 64 characters)", code: "TOO_LONG" });
  else if (!KEY.test(key)) errors.push({ field: ["definition", "key"], message: "Key contains one or more invalid characters.", code: "INVALID_CHARACTER" });
  if (creating && !isKnownType(type)) errors.push({ field: ["definition", "type"], message: "Type name is not a valid type.", code: "INCLUSION" });
  if (input.name !== undefined && input.name.trim() === "") errors.push({ field: ["definition", "name"], message: "Name can't be blank", code: "BLANK" });
  if (input.name !== undefined && input.name.length > 255) errors.push({ field: ["definition", "name"], message: "Name is too long (maximum is 255 characters)", code: "TOO_LONG" });
  if ((input.description ?? "").length > 255) errors.push({ field: ["definition", "description"], message: "Description is too long (maximum is 255 characters)", code: "TOO_LONG" });
  for (const [index, validation] of (input.validations ?? []).entries()) {
    const problem = validationProblem(type, validation);
    if (problem) errors.push({ field: ["definition", "validations", String(index)], message: problem, code: "INVALID_OPTION" });
  }
  return errors;
}

function validationProblem(type: string, validation: { name: string; value: string }): string | null {
  const scalar = type.replace(/^list\./, "");
  if (validation.name === "choices") {
    if (scalar !== "single_line_text_field") return `Validations choices is not supported for ${type}.`;
    let choices: unknown;
    try {
      choices = JSON.parse(validation.value);
    } catch {
      return "Validations choices must be a JSON array of strings.";
    }
    if (!Array.isArray(choices) || choices.some((choice) => typeof choice !== "string" || choice === "")) return "Validations choices must be a JSON array of strings.";
    if (choices.length > 128) return "Validations choices can have at most 128 values.";
    if (new Set(choices).size !== choices.length) return "Validations choices must be unique.";
    return null;
  }
  if (validation.name === "min" || validation.name === "max") {
    if (scalar === "number_decimal" || scalar === "number_integer") return NUMBER_DECIMAL.test(validation.value) ? null : `Validations ${validation.name} must be a number.`;
    if (scalar === "date") return DATE.test(validation.value) ? null : `Validations ${validation.name} must be a date.`;
    if (scalar === "single_line_text_field" || scalar === "multi_line_text_field") return NUMBER_INTEGER.test(validation.value) ? null : `Validations ${validation.name} must be an integer.`;
    return `Validations ${validation.name} is not supported for ${type}.`;
  }
  if (validation.name === "max_precision" && scalar === "number_decimal") return NUMBER_INTEGER.test(validation.value) ? null : "Validations max_precision must be an integer.";
  return `Validations ${validation.name} is not supported for ${type}.`;
}

export function createDefinition(fake: FakeShopifyRules, data: FakeShopData, input: DefinitionInput) {
  if (fake.definitionUserErrorsNext) {
    const userErrors = fake.definitionUserErrorsNext;
    fake.definitionUserErrorsNext = null;
    return { createdDefinition: null, userErrors };
  }
  const type = input.type ?? "";
  const errors = definitionInputErrors(fake, input, type, true);
  if (!input.ownerType) errors.push({ field: ["definition", "ownerType"], message: "Owner type can't be blank", code: "BLANK" });
  if (!input.name) errors.push({ field: ["definition", "name"], message: "Name can't be blank", code: "BLANK" });
  const namespace = resolveNamespace(fake, input.namespace ?? "$app");
  const taken = data.definitions.find((d) => d.ownerType === input.ownerType && d.namespace === namespace && d.key === input.key);
  if (taken) {
    errors.push({ field: ["definition", "key"], message: `Key is in use for ${titleCase(taken.ownerType)} metafields on the '${namespace}' namespace.`, code: "TAKEN" });
  }
  if (errors.length > 0) return { createdDefinition: null, userErrors: errors };
  const definition: FakeMetafieldDefinition = {
    id: nextId("MetafieldDefinition"),
    ownerType: input.ownerType ?? "",
    namespace,
    key: input.key ?? "",
    name: input.name ?? "",
    description: input.description ?? null,
    type,
    validations: (input.validations ?? []).map((validation) => ({ name: validation.name, value: validation.value })),
    // App-owned definitions default to MERCHANT_READ in admin; storefront to NONE.
    access: { admin: input.access?.admin ?? (namespace.startsWith("app--") ? "MERCHANT_READ" : "PUBLIC_READ_WRITE"), storefront: input.access?.storefront ?? "NONE" },
    pinnedPosition: input.pin ? data.definitions.filter((d) => d.pinnedPosition !== null).length + 1 : null,
  };
  data.definitions.push(definition);
  return { createdDefinition: definitionNode(definition), userErrors: [] };
}

export function updateDefinition(fake: FakeShopifyRules, data: FakeShopData, input: DefinitionInput) {
  if ("type" in input) throw new FakeGraphqlErrors([{ message: "Variable $definition of type MetafieldDefinitionUpdateInput! was provided invalid value for type (Field is not defined on MetafieldDefinitionUpdateInput)", extensions: { code: "INVALID_VARIABLE" } }]);
  const namespace = resolveNamespace(fake, input.namespace ?? "$app");
  const definition = data.definitions.find((d) => d.ownerType === input.ownerType && d.namespace === namespace && d.key === input.key);
  if (!definition) return { updatedDefinition: null, userErrors: [{ field: ["definition"], message: "Definition not found.", code: "NOT_FOUND" }], validationJob: null };
  const errors = definitionInputErrors(fake, input, definition.type, false);
  if (errors.length > 0) return { updatedDefinition: null, userErrors: errors, validationJob: null };
  if (input.name !== undefined) definition.name = input.name;
  if (input.description !== undefined) definition.description = input.description;
  if (input.validations !== undefined) definition.validations = input.validations.map((validation) => ({ name: validation.name, value: validation.value }));
  if (input.access?.admin !== undefined) definition.access.admin = input.access.admin;
  if (input.access?.storefront !== undefined) definition.access.storefront = input.access.storefront;
  return { updatedDefinition: definitionNode(definition), userErrors: [], validationJob: input.validations ? { id: nextId("Job"), done: false } : null };
}

export function listDefinitions(fake: FakeShopifyRules, data: FakeShopData, variables: Record<string, unknown>) {
  const first = Number(variables.first ?? 50);
  if (first > 250) throw new FakeGraphqlErrors([{ message: "The first argument must be at most 250.", extensions: { code: "ARGUMENT_LIMIT_EXCEEDED" } }]);
  const namespace = variables.namespace === undefined || variables.namespace === null ? null : resolveNamespace(fake, String(variables.namespace));
  const matching = data.definitions.filter((d) => (!variables.ownerType || d.ownerType === variables.ownerType) && (namespace === null || d.namespace === namespace));
  const start = variables.after ? Number(Buffer.from(String(variables.after), "base64").toString("utf8")) + 1 : 0;
  const page = matching.slice(start, start + first);
  return {
    nodes: page.map(definitionNode),
    pageInfo: { hasNextPage: start + first < matching.length, endCursor: page.length ? Buffer.from(String(start + page.length - 1)).toString("base64") : null },
  };
}

export function valueProblem(type: string, value: string, validations: { name: string; value: string }[]): { code: string; message: string } | null {
  if (value === "") return { code: "BLANK", message: "Value can't be blank." };
  const scalarOk = (scalar: string, item: unknown): boolean => {
    const text = typeof item === "string" ? item : String(item);
    switch (scalar) {
      case "single_line_text_field": return typeof item === "string" && !/[\r\n]/.test(text);
      case "number_decimal": return NUMBER_DECIMAL.test(text);
      case "number_integer": return NUMBER_INTEGER.test(text);
      case "date": return DATE.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));
      case "date_time": return DATE_TIME.test(text) && !Number.isNaN(Date.parse(text));
      case "boolean": return text === "true" || text === "false";
      default: return true;
    }
  };
  let items: unknown[];
  if (type.startsWith("list.")) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (!Array.isArray(parsed)) return { code: "INVALID_VALUE", message: "Value must be an array." };
      items = parsed;
    } catch {
      return { code: "INVALID_VALUE", message: "Value is invalid JSON." };
    }
    if (!items.every((item) => scalarOk(type.slice(5), item))) return { code: "INVALID_VALUE", message: `Value must be a list of ${type.slice(5)} values.` };
  } else {
    if (!scalarOk(type, value)) return { code: "INVALID_VALUE", message: `Value is invalid for ${type}.` };
    items = [value];
  }
  for (const validation of validations) {
    if (validation.name === "choices") {
      const choices = JSON.parse(validation.value) as string[];
      const outside = items.find((item) => !choices.includes(String(item)));
      if (outside !== undefined) return { code: "INCLUSION", message: `Value does not exist in provided choices: ${JSON.stringify(choices)}.` };
    }
    if (validation.name === "min" && items.some((item) => Number(item) < Number(validation.value))) return { code: "INVALID_VALUE", message: `Value has a minimum of ${validation.value}.` };
    if (validation.name === "max" && items.some((item) => Number(item) > Number(validation.value))) return { code: "INVALID_VALUE", message: `Value has a maximum of ${validation.value}.` };
  }
  return null;
}

export type MetafieldsSetInput = { ownerId?: string; namespace?: string; key?: string; type?: string; value?: string };

export function metafieldsSet(fake: FakeShopifyRules, data: FakeShopData, inputs: MetafieldsSetInput[]) {
  if (inputs.length > METAFIELDS_SET_LIMIT) {
    throw new FakeGraphqlErrors([{
      message: `The input array size of ${inputs.length} is greater than the maximum allowed of ${METAFIELDS_SET_LIMIT}.`,
      path: ["metafieldsSet", "metafields"],
      extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" },
    }]);
  }
  const userErrors: UserError[] = [];
  const resolved = inputs.map((input, index) => {
    const fail = (field: string, code: string, message: string) => userErrors.push({ field: ["metafields", String(index), field], message, code, elementIndex: null });
    const ownerId = input.ownerId ?? "";
    const namespace = resolveNamespace(fake, input.namespace ?? "$app");
    const key = input.key ?? "";
    const ownerMatch = /^gid:\/\/shopify\/(Customer|Product|ProductVariant|Order|Shop)\/\d+$/.exec(ownerId);
    if (!ownerMatch) fail("ownerId", "INVALID", "Owner is invalid.");
    else if (data.deletedCustomers.has(ownerId)) fail("ownerId", "INVALID", "Owner does not exist.");
    if (namespace.startsWith("app--") && !namespace.startsWith(fake.appNamespace)) fail("namespace", "APP_NOT_AUTHORIZED", "Access to this namespace and key on Metafields for this resource type is not allowed.");
    if (key.length < 2 || key.length > 64 || !KEY.test(key)) fail("key", "INVALID", "Key is invalid.");
    const definition = ownerMatch
      ? data.definitions.find((d) => d.ownerType === ownerMatch[1].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase() && d.namespace === namespace && d.key === key)
      : undefined;
    const type = input.type ?? definition?.type;
    if (!type) fail("type", "BLANK", "Type can't be blank.");
    else if (!isKnownType(type)) fail("type", "INVALID_TYPE", "Type is invalid.");
    else if (definition && definition.type !== type) fail("type", "INVALID_TYPE", `Type must be the same as the definition's type: ${definition.type}.`);
    else {
      const problem = valueProblem(type, input.value ?? "", definition?.validations ?? []);
      if (problem) fail("value", problem.code, problem.message);
    }
    return { ownerId, namespace, key, type: type ?? "", value: input.value ?? "" };
  });
  // Atomic: one failing input and nothing is written.
  if (userErrors.length > 0) return { metafields: [], userErrors };
  const now = new Date().toISOString();
  const written = resolved.map((input) => {
    let owner = data.metafields.get(input.ownerId);
    if (!owner) data.metafields.set(input.ownerId, (owner = new Map()));
    const existing = owner.get(`${input.namespace}.${input.key}`);
    const metafield: FakeMetafield = { id: existing?.id ?? nextId("Metafield"), ...input, updatedAt: now };
    owner.set(`${input.namespace}.${input.key}`, metafield);
    return { id: metafield.id, namespace: metafield.namespace, key: metafield.key, type: metafield.type, value: metafield.value, updatedAt: now, createdAt: now };
  });
  return { metafields: written, userErrors: [] };
}

// --- The segment query check -----------------------------------------------------------

type Token = { kind: "word" | "string" | "number" | "date" | "op" | "paren"; text: string; column: number };

/** Tokens of a segment query, or the column of the first character that starts none. */
function tokenize(query: string): Token[] | { column: number; text: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const column = i + 1;
    if (c === "'") {
      const end = query.indexOf("'", i + 1);
      if (end < 0) return { column, text: query.slice(i) };
      tokens.push({ kind: "string", text: query.slice(i + 1, end), column });
      i = end + 1;
      continue;
    }
    const op = /^(<=|>=|!=|=|<|>)/.exec(query.slice(i));
    if (op) {
      tokens.push({ kind: "op", text: op[1], column });
      i += op[1].length;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ kind: "paren", text: c, column });
      i += 1;
      continue;
    }
    const date = /^-?\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?)?(?![\w.-])/.exec(query.slice(i));
    if (date) {
      tokens.push({ kind: "date", text: date[0], column });
      i += date[0].length;
      continue;
    }
    const relative = /^(-\d+[dwmy]|\d+_(days|weeks|months|years)_ago|today|yesterday)(?![\w.-])/.exec(query.slice(i));
    if (relative) {
      tokens.push({ kind: "date", text: relative[0], column });
      i += relative[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?(?![\w.-])/.exec(query.slice(i));
    if (number) {
      tokens.push({ kind: "number", text: number[0], column });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(query.slice(i));
    if (word) {
      tokens.push({ kind: "word", text: word[0], column });
      i += word[0].length;
      continue;
    }
    return { column, text: c };
  }
  return tokens;
}

/** Operators by the metafield definition's type (help center, metafield-based segment filters). */
function operatorsFor(type: string): Set<string> {
  if (type.startsWith("list.")) return new Set(["CONTAINS", "NOT CONTAINS", "IS NULL", "IS NOT NULL"]);
  if (type === "number_integer" || type === "number_decimal") return new Set(["=", "!=", "<", ">", "<=", ">=", "BETWEEN", "IS NULL", "IS NOT NULL"]);
  if (type === "date" || type === "date_time") return new Set(["=", "<", ">", "<=", ">=", "BETWEEN", "IS NULL", "IS NOT NULL"]);
  if (type === "single_line_text_field" || type === "boolean") return new Set(["=", "!=", "IS NULL", "IS NOT NULL"]);
  return new Set();
}

function valueKindFor(type: string): Token["kind"] {
  const scalar = type.replace(/^list\./, "");
  if (scalar === "number_integer" || scalar === "number_decimal") return "number";
  if (scalar === "date" || scalar === "date_time") return "date";
  if (scalar === "boolean") return "word";
  return "string";
}

/** null when Shopify would accept the query, else the userError message it gives. */
export function segmentQueryProblem(query: string, definitions: readonly FakeMetafieldDefinition[]): string | null {
  const tokens = tokenize(query);
  if (!Array.isArray(tokens)) return `Query Line 1 Column ${tokens.column}: '${tokens.text}' is unexpected.`;
  if (tokens.length === 0) return "Query can't be blank";
  let i = 0;
  const unexpected = (token: Token | undefined) =>
    token ? `Query Line 1 Column ${token.column}: '${token.text}' is unexpected.` : `Query Line 1 Column ${query.length + 1}: unexpected end of query.`;
  const isWord = (token: Token | undefined, text: string) => token?.kind === "word" && token.text.toUpperCase() === text;

  const clause = (): string | null => {
    const token = tokens[i];
    if (token?.kind === "paren" && token.text === "(") {
      i += 1;
      const inner = expression();
      if (inner) return inner;
      if (!(tokens[i]?.kind === "paren" && tokens[i].text === ")")) return unexpected(tokens[i]);
      i += 1;
      return null;
    }
    if (token?.kind !== "word") return unexpected(token);
    const parts = token.text.split(".");
    if (parts[0] !== "metafields" || parts.length !== 3 || parts.some((part) => part === "")) {
      return `Query Line 1 Column ${token.column}: '${token.text}' filter cannot be found.`;
    }
    const definition = definitions.find((d) => d.ownerType === "CUSTOMER" && d.namespace === parts[1] && d.key === parts[2]);
    if (!definition) return `Query Line 1 Column ${token.column}: '${token.text}' filter cannot be found.`;
    i += 1;
    let operator: string;
    const next = tokens[i];
    if (next?.kind === "op") {
      operator = next.text;
      i += 1;
    } else if (isWord(next, "CONTAINS") || isWord(next, "BETWEEN")) {
      operator = next.text.toUpperCase();
      i += 1;
    } else if (isWord(next, "NOT") && isWord(tokens[i + 1], "CONTAINS")) {
      operator = "NOT CONTAINS";
      i += 2;
    } else if (isWord(next, "IS") && isWord(tokens[i + 1], "NULL")) {
      operator = "IS NULL";
      i += 2;
    } else if (isWord(next, "IS") && isWord(tokens[i + 1], "NOT") && isWord(tokens[i + 2], "NULL")) {
      operator = "IS NOT NULL";
      i += 3;
    } else return unexpected(next);
    if (!operatorsFor(definition.type).has(operator)) return unexpected(next);
    if (operator === "IS NULL" || operator === "IS NOT NULL") return null;
    const valueKind = valueKindFor(definition.type);
    const value = (): string | null => {
      const token = tokens[i];
      if (token?.kind !== valueKind || (valueKind === "word" && !/^(true|false)$/i.test(token.text))) return unexpected(token);
      i += 1;
      return null;
    };
    const first = value();
    if (first) return first;
    if (operator === "BETWEEN") {
      if (!isWord(tokens[i], "AND")) return unexpected(tokens[i]);
      i += 1;
      return value();
    }
    return null;
  };

  const expression = (): string | null => {
    const first = clause();
    if (first) return first;
    while (isWord(tokens[i], "AND") || isWord(tokens[i], "OR")) {
      i += 1;
      const next = clause();
      if (next) return next;
    }
    return null;
  };

  const problem = expression();
  if (problem) return problem;
  return i < tokens.length ? unexpected(tokens[i]) : null;
}

export function segmentNameProblem(data: FakeShopData, name: string, except: string | null): UserError | null {
  if (name.trim() === "") return { field: ["name"], message: "Name can't be blank", code: "BLANK" };
  if (name.length > 255) return { field: ["name"], message: "Name is too long (maximum is 255 characters)", code: "TOO_LONG" };
  if (data.segments.some((segment) => segment.name === name && segment.id !== except)) return { field: ["name"], message: "Name has already been taken", code: "TAKEN" };
  return null;
}

const segmentNode = (segment: FakeSegment) => ({ ...segment });

export function segmentCreate(data: FakeShopData, name: string, query: string) {
  const errors: { field: string[]; message: string }[] = [];
  const nameProblem = segmentNameProblem(data, name, null);
  if (nameProblem) errors.push({ field: nameProblem.field ?? ["name"], message: nameProblem.message });
  const queryProblem = segmentQueryProblem(query, data.definitions);
  if (queryProblem) errors.push({ field: ["query"], message: queryProblem });
  if (errors.length > 0) return { segment: null, userErrors: errors };
  const now = new Date().toISOString();
  const segment: FakeSegment = { id: nextId("Segment"), name, query, creationDate: now, lastEditDate: now };
  data.segments.push(segment);
  return { segment: segmentNode(segment), userErrors: [] };
}

export function segmentUpdate(data: FakeShopData, id: string, name: string | undefined, query: string | undefined) {
  const segment = data.segments.find((s) => s.id === id);
  if (!segment) return { segment: null, userErrors: [{ field: ["id"], message: "Segment does not exist" }] };
  const errors: { field: string[]; message: string }[] = [];
  if (name !== undefined && name !== null) {
    const nameProblem = segmentNameProblem(data, name, id);
    if (nameProblem) errors.push({ field: nameProblem.field ?? ["name"], message: nameProblem.message });
  }
  if (query !== undefined && query !== null) {
    const queryProblem = segmentQueryProblem(query, data.definitions);
    if (queryProblem) errors.push({ field: ["query"], message: queryProblem });
  }
  if (errors.length > 0) return { segment: null, userErrors: errors };
  if (name) segment.name = name;
  if (query) segment.query = query;
  segment.lastEditDate = new Date().toISOString();
  return { segment: segmentNode(segment), userErrors: [] };
}

/**
 * The answer to a metafield definition or segment operation (metafieldDefinitions,
 * metafieldDefinitionCreate / Update, segmentCreate / Update) on the shop's data, or undefined
 * when the query asks for none of them. Both fakes dispatch to it.
 */
export function resolveDefinitionsAndSegments(rules: FakeShopifyRules, data: FakeShopData, query: string, variables: Record<string, unknown>): unknown {
  if (query.includes("metafieldDefinitionCreate(")) return { metafieldDefinitionCreate: createDefinition(rules, data, (variables.definition ?? {}) as DefinitionInput) };
  if (query.includes("metafieldDefinitionUpdate(")) return { metafieldDefinitionUpdate: updateDefinition(rules, data, (variables.definition ?? {}) as DefinitionInput) };
  if (query.includes("metafieldDefinitions(")) return { metafieldDefinitions: listDefinitions(rules, data, variables) };
  if (query.includes("segmentCreate(")) return { segmentCreate: segmentCreate(data, String(variables.name ?? ""), String(variables.query ?? "")) };
  if (query.includes("segmentUpdate(")) {
    return { segmentUpdate: segmentUpdate(data, String(variables.id ?? ""), variables.name as string | undefined, variables.query as string | undefined) };
  }
  return undefined;
}

export function titleCase(ownerType: string): string {
  return ownerType.charAt(0) + ownerType.slice(1).toLowerCase();
}

// --- Cost-based rate limiting --------------------------------------------------------------
//
// The GraphQL Admin API's leaky bucket (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
// every answer carries extensions.cost { requestedQueryCost, actualQueryCost, throttleStatus
// { maximumAvailable, currentlyAvailable, restoreRate } }; a query costing more than is
// available answers { errors: [{ message: "Throttled", extensions: { code: "THROTTLED" } }] }
// with actualQueryCost null. Each query's requested cost is computed from its text
// (demo/fakes/shopify-cost.ts) and reported; one over the single query limit is refused with
// MAX_COST_EXCEEDED before the bucket is consulted, as Shopify does. What is taken from the
// bucket stays the flat `queryCost` (standing for the actual cost, which Shopify computes from
// what the query returned), so the throttling tests keep their exact arithmetic.

export interface CostBucketLimits {
  maximumAvailable: number;
  /** Points restored per second. */
  restoreRate: number;
  /** What each query takes from the bucket (its actual cost; the requested cost is computed per query). */
  queryCost: number;
}

/** A shop's bucket of query cost points, refilled continuously. */
export class CostBucket {
  private available: number;
  private availableAt: number;
  /** The requested cost of the last query priced (check), reported in extensions. */
  private requested: number | null = null;

  constructor(
    readonly limits: CostBucketLimits,
    now = Date.now(),
  ) {
    this.available = limits.maximumAvailable;
    this.availableAt = now;
  }

  /** Refills to `now`, then takes one query's cost; false when the bucket lacks it (THROTTLED, nothing taken). */
  take(now = Date.now()): boolean {
    this.available = Math.min(this.limits.maximumAvailable, this.available + ((now - this.availableAt) / 1000) * this.limits.restoreRate);
    this.availableAt = now;
    if (this.available < this.limits.queryCost) return false;
    this.available -= this.limits.queryCost;
    return true;
  }

  /**
   * Prices a query as Shopify does before running it: null when it may run (its cost taken from
   * the bucket), else the answer: MAX_COST_EXCEEDED over the single query limit (nothing taken),
   * THROTTLED when the bucket lacks its cost, or the parse error of a query that is not GraphQL.
   */
  check(query: string, variables: Record<string, unknown>, now = Date.now()): { errors: unknown[]; extensions: ReturnType<CostBucket["extensions"]> } | null {
    let cost: number;
    try {
      cost = requestedQueryCost(query, variables);
    } catch (error) {
      if (!(error instanceof GraphqlSyntaxError)) throw error;
      this.requested = null;
      return { errors: [{ message: `syntax error: ${error.message}`, extensions: { code: "SYNTAX_ERROR" } }], extensions: this.extensions(true) };
    }
    this.requested = cost;
    if (cost > SINGLE_QUERY_MAX_COST) return { errors: maxCostExceededErrors(cost), extensions: this.extensions(true) };
    if (!this.take(now)) return { errors: THROTTLED_ERRORS, extensions: this.extensions(true) };
    return null;
  }

  /** The answer's extensions; `throttled`: actualQueryCost null, as Shopify answers a query it did not run. */
  extensions(throttled = false) {
    return {
      cost: {
        requestedQueryCost: this.requested ?? this.limits.queryCost,
        actualQueryCost: throttled ? null : this.limits.queryCost,
        throttleStatus: {
          maximumAvailable: this.limits.maximumAvailable,
          currentlyAvailable: Math.floor(this.available),
          restoreRate: this.limits.restoreRate,
        },
      },
    };
  }
}

/** The top-level errors of a throttled query. */
export const THROTTLED_ERRORS = [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }];
