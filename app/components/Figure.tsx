import { Box, InlineGrid, type InlineGridProps, Text } from "@shopify/polaris";
import { HelpLabel } from "./HelpLabel";

const VARIANT = { sm: "headingSm", md: "headingMd", lg: "headingLg" } as const;

/**
 * A labelled figure on a card: the label small and subdued, the value as a heading-sized line.
 * `term`: the label's glossary term (its help and link); data-figure-label lets the browser
 * test find a figure label that has none.
 */
export function Figure({ label, term, value, size = "lg", labelAs = "p" }: { label: string; term?: string; value: string; size?: keyof typeof VARIANT; labelAs?: "p" | "h3" }) {
  return (
    <Box>
      <Text as={labelAs} variant="bodySm" tone="subdued">
        <span data-figure-label="">{term ? <HelpLabel term={term} label={label} /> : label}</span>
      </Text>
      <Text as="p" variant={VARIANT[size]}>
        {value}
      </Text>
    </Box>
  );
}

export interface FigureItem {
  label: string;
  term?: string;
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
