import { orderPayload } from "./webhook-payloads";
import { bulkJsonl, graphqlOrderFromWebhook } from "./graphql-shapes";

/**
 * A bulk result of `count` orders of a small store: customers 100-102 in turn, every fourth
 * order a guest's, one or two line items; `customerUpdatedAt` gives an order's copy of its
 * customer's profile another updated_at.
 */
export function storeJsonl(count: number, customerUpdatedAt: (i: number) => Date | undefined = () => undefined): string {
  return bulkJsonl(
    Array.from({ length: count }, (_, i) => {
      const shaped = graphqlOrderFromWebhook(
        orderPayload({
          id: 9_000 + i,
          customerId: i % 4 === 3 ? null : 100 + (i % 3),
          updatedAt: new Date(Date.UTC(2025, 0, 1 + i)),
          totalCents: 1_000 + i,
          customerUpdatedAt: customerUpdatedAt(i),
        }),
      );
      return { ...shaped, lineItems: shaped.lineItems.slice(0, 1 + (i % 2)) };
    }),
  );
}
