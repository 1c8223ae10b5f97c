// A card whose content starts with an h2 heading (and, when given, a subdued line of help): most cards of the pages.
import { BlockStack, Card, Text } from "@shopify/polaris";
import { type ReactNode } from "react";

export function HeadingCard({ title, help, gap = "300", children }: { title: ReactNode; help?: ReactNode; gap?: "200" | "300"; children?: ReactNode }) {
  return (
    <Card>
      <BlockStack gap={gap}>
        <Text as="h2" variant="headingMd">
          {title}
        </Text>
        {help !== undefined && (
          <Text as="p" tone="subdued">
            {help}
          </Text>
        )}
        {children}
      </BlockStack>
    </Card>
  );
}
