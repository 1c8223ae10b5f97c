// An IndexTable cell holding one figure, right-aligned in tabular digits: the tables' number columns.
import { IndexTable, Text } from "@shopify/polaris";
import { type ReactNode } from "react";

export function NumericCell({ children }: { children: ReactNode }) {
  return (
    <IndexTable.Cell>
      <Text as="span" alignment="end" numeric>
        {children}
      </Text>
    </IndexTable.Cell>
  );
}
