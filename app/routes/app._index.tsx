import { type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Card, InlineGrid, Layout, Page, Text } from "@shopify/polaris";
import { type DeliveryStatus, type PrismaClient } from "@prisma/client";
import { db } from "~/db.server";
import { requireShop } from "~/demo-mode.server";

// The first page: what has arrived for this shop so far. The full dashboard (segments,
// cohorts, retention) reads precomputed rows and comes with the analytics issues.

export interface ShopOverview {
  deliveries: Record<DeliveryStatus, number>;
  orders: number;
  customers: number;
  currency: string | null;
  timezone: string | null;
}

/** Counts for one shop: every query is scoped by shop and served by a shop-leading index. */
async function shopOverview(database: PrismaClient, shop: string): Promise<ShopOverview> {
  const [byStatus, orders, customers, settings] = await Promise.all([
    database.webhookDelivery.groupBy({ by: ["status"], where: { shop }, _count: { _all: true } }),
    database.order.count({ where: { shop } }),
    database.customer.count({ where: { shop } }),
    database.shop.findUnique({ where: { domain: shop }, select: { currency: true, timezone: true } }),
  ]);
  const deliveries: Record<DeliveryStatus, number> = { PENDING: 0, PROCESSED: 0, FAILED: 0 };
  for (const row of byStatus) deliveries[row.status] = row._count._all;
  return { deliveries, orders, customers, currency: settings?.currency ?? null, timezone: settings?.timezone ?? null };
}

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  return { shop, overview: await shopOverview(db(), shop) };
};

const number = new Intl.NumberFormat("en-US");

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm" tone="subdued">
          {label}
        </Text>
        <Text as="p" variant="heading2xl">
          {number.format(value)}
        </Text>
      </BlockStack>
    </Card>
  );
}

export default function Overview() {
  const { shop, overview } = useLoaderData<typeof loader>();
  return (
    <Page title="Overview" subtitle={shop}>
      <Layout>
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, sm: 2 }} gap="400">
            <Figure label="Customers" value={overview.customers} />
            <Figure label="Orders" value={overview.orders} />
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                Webhook deliveries
              </Text>
              <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
                <Figure label="Waiting" value={overview.deliveries.PENDING} />
                <Figure label="Processed" value={overview.deliveries.PROCESSED} />
                <Figure label="Failed" value={overview.deliveries.FAILED} />
              </InlineGrid>
              {overview.currency && (
                <Text as="p" tone="subdued">
                  Amounts in {overview.currency}; dates in {overview.timezone}.
                </Text>
              )}
            </BlockStack>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
