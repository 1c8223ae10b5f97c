import { type FakeShopData, type FakeShopifyRules, resolveNamespace } from "./shopify-rules";

// A fake Shopify's customer operations of the metafield write-back (issue 15 part 1), plain
// Node: the tests' fake (tests/support/fake-shopify.ts) and the demo's (demo/fakes/shopify.ts)
// dispatch to resolveCustomerOperations:
//  - metafieldsDelete(metafields: [MetafieldIdentifierInput!]!) -> { deletedMetafields
//    [MetafieldIdentifier] (null for one that does not exist), userErrors { field message } }
//    https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsDelete
//  - tagsAdd / tagsRemove(id: ID!, tags: [String!]!) -> { node { id }, userErrors { field message } };
//    tags as a list or one comma-separated string
//    https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsAdd
// Customer tags are kept per shop and customer GID; a customer in the shop's deletedCustomers
// (deleted or redacted in Shopify) refuses tags and has no metafields.

const customerTags = new WeakMap<FakeShopData, Map<string, Set<string>>>();

function tagsOf(data: FakeShopData): Map<string, Set<string>> {
  let tags = customerTags.get(data);
  if (!tags) customerTags.set(data, (tags = new Map()));
  return tags;
}

/** The customer's tags in the fake, sorted (a merchant's own and Tenure's). */
export function fakeCustomerTags(data: FakeShopData, customerGid: string): string[] {
  return [...(tagsOf(data).get(customerGid) ?? [])].sort();
}

/** Puts tags on a customer as a merchant would in Shopify admin. */
export function tagCustomerAsMerchant(data: FakeShopData, customerGid: string, tags: readonly string[]): void {
  const held = tagsOf(data).get(customerGid) ?? new Set<string>();
  for (const tag of tags) held.add(tag);
  tagsOf(data).set(customerGid, held);
}

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/\d+$/;

function parseTags(tags: unknown): string[] {
  const list = Array.isArray(tags) ? tags.map(String) : typeof tags === "string" ? tags.split(",") : [];
  return list.map((tag) => tag.trim()).filter((tag) => tag !== "");
}

function changeTags(data: FakeShopData, id: string, tags: unknown, add: boolean) {
  if (!CUSTOMER_GID.test(id) || data.deletedCustomers.has(id)) return { node: null, userErrors: [{ field: ["id"], message: "Customer does not exist" }] };
  const list = parseTags(tags);
  if (list.length === 0) return { node: null, userErrors: [{ field: ["tags"], message: "Tags can't be blank" }] };
  const tooLong = list.find((tag) => tag.length > 255);
  if (tooLong) return { node: null, userErrors: [{ field: ["tags"], message: `Tag ${tooLong.slice(0, 20)}… is too long (maximum is 255 characters)` }] };
  const held = tagsOf(data).get(id) ?? new Set<string>();
  for (const tag of list) {
    if (add) held.add(tag);
    else held.delete(tag);
  }
  tagsOf(data).set(id, held);
  return { node: { id }, userErrors: [] };
}

type Identifier = { ownerId?: string; namespace?: string; key?: string };

function metafieldsDelete(fake: FakeShopifyRules, data: FakeShopData, identifiers: Identifier[]) {
  if (identifiers.length === 0) return { deletedMetafields: null, userErrors: [{ field: ["metafields"], message: "At least one identifier must be specified." }] };
  const deleted = identifiers.map((identifier) => {
    const ownerId = identifier.ownerId ?? "";
    const namespace = resolveNamespace(fake, identifier.namespace ?? "$app");
    const key = identifier.key ?? "";
    const owner = data.metafields.get(ownerId);
    if (!owner?.delete(`${namespace}.${key}`)) return null;
    return { ownerId, namespace, key };
  });
  return { deletedMetafields: deleted, userErrors: [] };
}

/** The customer operations, or undefined for a query this part does not answer. */
export function resolveCustomerOperations(fake: FakeShopifyRules, data: FakeShopData, query: string, variables: Record<string, unknown>): unknown {
  if (query.includes("metafieldsDelete(")) return { metafieldsDelete: metafieldsDelete(fake, data, (variables.metafields ?? []) as Identifier[]) };
  if (query.includes("tagsAdd(")) return { tagsAdd: changeTags(data, String(variables.id ?? ""), variables.tags, true) };
  if (query.includes("tagsRemove(")) return { tagsRemove: changeTags(data, String(variables.id ?? ""), variables.tags, false) };
  return undefined;
}
