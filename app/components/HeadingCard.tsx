// A card whose content starts with an h2 heading (and, when given, a subdued line of help): most cards of the pages.
import { BlockStack, Card, Text } from "@shopify/polaris";
import { type ReactNode } from "react";
import { HelpLabel } from "./HelpLabel";

/** `term`: the title's glossary term (app/display/glossary.ts); the title must then be the label text. */
export function HeadingCard({
  title,
  term,
  help,
  gap = "300",
  children,
}: {
  title: ReactNode;
  term?: string;
  help?: ReactNode;
  gap?: "200" | "300";
  children?: ReactNode;
}) {
  return (
    <Card>
      <BlockStack gap={gap}>
        <Text as="h2" variant="headingMd">
          {term && typeof title === "string" ? <HelpLabel term={term} label={title} /> : title}
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
