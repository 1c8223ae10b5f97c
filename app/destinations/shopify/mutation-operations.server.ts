import { DestinationRetryableError } from "../adapter";
import { type AdminGraphqlClient } from "./definitions.server";

// Waiting for the shop's unfinished bulk mutation operations before a live write (issue 15,
// review of the write-back). A bulk operation keeps running in Shopify after Tenure stops
// polling it (polls given up, a worker restart): if it holds older values of a customer and
// lands after a live write of newer ones, Shopify keeps the older ones and nothing corrects
// them (the member row's hash already matches). So the live path and an erasure first wait
// until no mutation operation of the shop is unfinished: one query when there is none.
//
// Unfinished is every status but the ended ones (COMPLETED, FAILED, CANCELED, EXPIRED):
// `status:running` alone would miss CREATED and CANCELING (BulkOperationStatus:
// https://shopify.dev/docs/api/admin-graphql/latest/enums/BulkOperationStatus). The search
// asks for those three statuses (so the list's order does not matter: the reference says
// newest first by default, the changelog's example adds reverse: true) and the answer is
// filtered by status in code as well; 10 is plenty, 2026-10 runs at most five at once.
// Query: https://shopify.dev/docs/api/admin-graphql/latest/queries/bulkOperations,
// https://shopify.dev/changelog/posts/new-queries-for-bulk-operations.
// The bulk path (bulk-mutation.server.ts) asks the same query before each operation it starts.

export const UNFINISHED_MUTATION_OPERATIONS = `#graphql
  query TenureMutationOperations {
    bulkOperations(first: 10, query: "operation_type:mutation AND (status:created OR status:running OR status:canceling)") { nodes { id status } }
  }`;

export const ENDED_OPERATION_STATUSES: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELED", "EXPIRED"]);

export interface WaitForMutationsOptions {
  /** Between looks while one is unfinished (default 2 s). */
  pollMs?: number;
  /** How long to wait at most before giving up as retryable (default 15 min): the caller keeps its changes. */
  maxWaitMs?: number;
}

/** Resolves once no bulk mutation operation of the shop is unfinished; returns how many looks it took. */
export async function waitForUnfinishedMutations(admin: AdminGraphqlClient, shop: string, options: WaitForMutationsOptions = {}): Promise<number> {
  const pollMs = options.pollMs ?? 2_000;
  const deadline = Date.now() + (options.maxWaitMs ?? 15 * 60_000);
  for (let looks = 1; ; looks += 1) {
    const answer = await admin.request<{ bulkOperations: { nodes: { id: string; status: string }[] } }>(shop, UNFINISHED_MUTATION_OPERATIONS);
    const unfinished = answer.bulkOperations.nodes.filter((operation) => !ENDED_OPERATION_STATUSES.has(operation.status));
    if (unfinished.length === 0) return looks;
    if (Date.now() >= deadline) {
      throw new DestinationRetryableError(
        `bulk mutation ${unfinished.map((operation) => `${operation.id} (${operation.status})`).join(", ")} still unfinished on ${shop}: live metafield writes wait for it, so it cannot overwrite newer values`,
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, pollMs));
  }
}
