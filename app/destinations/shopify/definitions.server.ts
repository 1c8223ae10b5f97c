import {
  CUSTOMER_OWNER_TYPE,
  type MetafieldValidation,
  TENURE_METAFIELD_DEFINITIONS,
  TENURE_METAFIELD_NAMESPACE,
  type TenureMetafieldDefinition,
} from "./metafields";

// Makes sure a shop has Tenure's customer metafield definitions (issue 15), idempotently:
// missing ones are created, ones whose name, description, validations or access differ are
// updated, correct ones are left alone. Safe to run on install and on every start.
//
// It talks through the app's one Admin GraphQL client (AdminGraphql in
// app/integrations/shopify-admin.server.ts: offline session, cost-bucket pacing, retries of
// THROTTLED, 5xx and network errors), passed in by the caller: destinations/ may not import
// integrations/ (docs/architecture.md), and any object with its `request` fits.
//
// Docs: metafieldDefinitionCreate / metafieldDefinitionUpdate and their userErrors
// (https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldDefinitionCreate,
// .../metafieldDefinitionUpdate: type, namespace, key and owner type identify a definition and
// cannot be updated), the metafieldDefinitions query (filtered by owner type and namespace).

/** What this module needs of AdminGraphql. */
export interface AdminGraphqlClient {
  request<T>(shop: string, query: string, variables?: Record<string, unknown>): Promise<T>;
}

interface ShopifyUserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
}

interface ShopifyDefinition {
  id: string;
  namespace: string;
  key: string;
  name: string;
  description: string | null;
  type: { name: string };
  validations: MetafieldValidation[];
  access: { admin: string | null; storefront: string | null };
}

const DEFINITION_FIELDS = `id namespace key name description type { name } validations { name value } access { admin storefront }`;

const LIST_DEFINITIONS = `#graphql
  query TenureMetafieldDefinitions($after: String, $namespace: String!) {
    metafieldDefinitions(first: 50, after: $after, ownerType: CUSTOMER, namespace: $namespace) {
      nodes { ${DEFINITION_FIELDS} }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const CREATE_DEFINITION = `#graphql
  mutation TenureMetafieldDefinitionCreate($definition: MetafieldDefinitionInput!) {
    metafieldDefinitionCreate(definition: $definition) {
      createdDefinition { ${DEFINITION_FIELDS} }
      userErrors { field message code }
    }
  }`;

const UPDATE_DEFINITION = `#graphql
  mutation TenureMetafieldDefinitionUpdate($definition: MetafieldDefinitionUpdateInput!) {
    metafieldDefinitionUpdate(definition: $definition) {
      updatedDefinition { ${DEFINITION_FIELDS} }
      userErrors { field message code }
    }
  }`;

export interface DefinitionsOutcome {
  /** Tenure's namespace as the shop resolved "$app" (app--<id>): what segment queries name. */
  namespace: string | null;
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** Shopify refused some definitions; `problems` says which and why, one sentence each. */
export class MetafieldDefinitionsError extends Error {
  constructor(
    readonly shop: string,
    readonly problems: string[],
    readonly outcome: DefinitionsOutcome,
  ) {
    super(`Tenure's customer metafield definitions on ${shop} are not all in place: ${problems.join(" ")}`);
    this.name = "MetafieldDefinitionsError";
  }
}

function describeUserErrors(errors: readonly ShopifyUserError[]): string {
  return errors.map((error) => `${error.message}${error.code ? ` [${error.code}]` : ""}${error.field?.length ? ` (${error.field.join(".")})` : ""}`).join("; ");
}

async function readDefinitions(admin: AdminGraphqlClient, shop: string): Promise<ShopifyDefinition[]> {
  const found: ShopifyDefinition[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { metafieldDefinitions: { nodes: ShopifyDefinition[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
      await admin.request(shop, LIST_DEFINITIONS, { after, namespace: TENURE_METAFIELD_NAMESPACE });
    found.push(...data.metafieldDefinitions.nodes);
    if (!data.metafieldDefinitions.pageInfo.hasNextPage) return found;
    after = data.metafieldDefinitions.pageInfo.endCursor;
  }
}

/** Validations compared as sets by name; choices as lists (Shopify may reformat the JSON). */
function sameValidations(have: readonly MetafieldValidation[], want: readonly MetafieldValidation[]): boolean {
  if (have.length !== want.length) return false;
  const normal = (validation: MetafieldValidation) => {
    if (validation.name !== "choices") return validation.value;
    try {
      return JSON.stringify(JSON.parse(validation.value));
    } catch {
      return validation.value;
    }
  };
  const byName = new Map(have.map((validation) => [validation.name, normal(validation)]));
  return want.every((validation) => byName.get(validation.name) === normal(validation));
}

/** What differs between the shop's definition and Tenure's (empty: nothing to update). */
export function definitionDifferences(have: ShopifyDefinition, want: TenureMetafieldDefinition): string[] {
  const differences: string[] = [];
  if (have.name !== want.name) differences.push("name");
  if ((have.description ?? "") !== want.description) differences.push("description");
  if (!sameValidations(have.validations, want.validations)) differences.push("validations");
  if (have.access.admin !== want.access.admin || (have.access.storefront ?? "NONE") !== want.access.storefront) differences.push("access");
  return differences;
}

const identity = (want: TenureMetafieldDefinition) => ({ ownerType: CUSTOMER_OWNER_TYPE, namespace: TENURE_METAFIELD_NAMESPACE, key: want.key });
const settings = (want: TenureMetafieldDefinition) => ({ name: want.name, description: want.description, validations: want.validations, access: want.access });

/**
 * Creates Tenure's missing customer metafield definitions on `shop` and updates those that
 * differ. Throws MetafieldDefinitionsError naming every definition Shopify refused (after
 * trying them all), ShopifyAdminError (from the client) when Shopify cannot be reached.
 */
export async function ensureTenureMetafieldDefinitions(admin: AdminGraphqlClient, shop: string): Promise<DefinitionsOutcome> {
  const outcome: DefinitionsOutcome = { namespace: null, created: [], updated: [], unchanged: [] };
  const problems: string[] = [];
  const existing = new Map((await readDefinitions(admin, shop)).map((definition) => [definition.key, definition]));
  outcome.namespace = existing.values().next().value?.namespace ?? null;

  for (const want of TENURE_METAFIELD_DEFINITIONS) {
    const have = existing.get(want.key);
    if (have) {
      if (have.type.name !== want.type) {
        // A type cannot be updated; replacing the definition would delete every customer's value.
        problems.push(`"${want.key}" exists with type ${have.type.name}, Tenure writes ${want.type}: delete the definition in Settings > Custom data > Customers to let Tenure recreate it.`);
        continue;
      }
      const differences = definitionDifferences(have, want);
      if (differences.length === 0) {
        outcome.unchanged.push(want.key);
        continue;
      }
      const data = await admin.request<{ metafieldDefinitionUpdate: { updatedDefinition: ShopifyDefinition | null; userErrors: ShopifyUserError[] } }>(
        shop,
        UPDATE_DEFINITION,
        { definition: { ...identity(want), ...settings(want) } },
      );
      const { updatedDefinition, userErrors } = data.metafieldDefinitionUpdate;
      if (userErrors.length > 0 || !updatedDefinition) {
        problems.push(`"${want.key}" could not be updated (${differences.join(", ")} differ): ${describeUserErrors(userErrors)}.`);
        continue;
      }
      outcome.namespace ??= updatedDefinition.namespace;
      outcome.updated.push(want.key);
      continue;
    }
    const data = await admin.request<{ metafieldDefinitionCreate: { createdDefinition: ShopifyDefinition | null; userErrors: ShopifyUserError[] } }>(
      shop,
      CREATE_DEFINITION,
      { definition: { ...identity(want), type: want.type, ...settings(want) } },
    );
    const { createdDefinition, userErrors } = data.metafieldDefinitionCreate;
    if (userErrors.some((error) => error.code === "TAKEN")) {
      // Another process created it since the read: it is there; the next run compares it.
      outcome.unchanged.push(want.key);
      continue;
    }
    if (userErrors.length > 0 || !createdDefinition) {
      problems.push(`"${want.key}" could not be created: ${describeUserErrors(userErrors)}.`);
      continue;
    }
    outcome.namespace ??= createdDefinition.namespace;
    outcome.created.push(want.key);
  }

  if (problems.length > 0) throw new MetafieldDefinitionsError(shop, problems, outcome);
  return outcome;
}
