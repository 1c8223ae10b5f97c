import { Box, InlineGrid, type InlineGridProps, Text } from "@shopify/polaris";

const VARIANT = { sm: "headingSm", md: "headingMd", lg: "headingLg" } as const;

/** A labelled figure on a card: the label small and subdued, the value as a heading-sized line. */
export function Figure({ label, value, size = "lg", labelAs = "p" }: { label: string; value: string; size?: keyof typeof VARIANT; labelAs?: "p" | "h3" }) {
  return (
    <Box>
      <Text as={labelAs} variant="bodySm" tone="subdued">
        {label}
      </Text>
      <Text as="p" variant={VARIANT[size]}>
        {value}
      </Text>
    </Box>
  );
}

export interface FigureItem {
  label: string;
  value: string;
  labelAs?: "p" | "h3";
}

/** Figures side by side in a grid, all of one size. */
export function FigureGrid({ figures, size, columns, gap }: { figures: FigureItem[]; size?: keyof typeof VARIANT; columns: InlineGridProps["columns"]; gap: InlineGridProps["gap"] }) {
  return (
    <InlineGrid columns={columns} gap={gap}>
      {figures.map((figure) => (
        <Figure key={figure.label} size={size} {...figure} />
      ))}
    </InlineGrid>
  );
}
