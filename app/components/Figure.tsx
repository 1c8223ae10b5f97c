import { Box, Text } from "@shopify/polaris";

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
