// A page body of one full-width layout section whose cards and banners stack with the pages' usual gap.
import { BlockStack, Layout } from "@shopify/polaris";
import { type ReactNode } from "react";

export function CardColumn({ children }: { children: ReactNode }) {
  return (
    <Layout>
      <Layout.Section>
        <BlockStack gap="400">{children}</BlockStack>
      </Layout.Section>
    </Layout>
  );
}
