import { useLocation, useSearchParams } from "@remix-run/react";
import { Button, ButtonGroup, InlineStack, Text } from "@shopify/polaris";
import { percent } from "~/display/format";
import { type PageMoneyBasis } from "~/pages/money-basis";
import { HelpLabel } from "./HelpLabel";

// The page's money basis toggle (app/pages/money-basis.ts): links, so the choice is in the
// URL and survives a reload or a shared link. Shown only when a margin is set.

export function MoneyBasisToggle({ basis }: { basis: PageMoneyBasis }) {
  const [searchParams] = useSearchParams();
  const location = useLocation();
  if (!basis.toggle) return null;
  const urlFor = (value: "revenue" | "profit") => {
    const params = new URLSearchParams(searchParams);
    // A table's page cursor stays valid: the basis changes amounts, not the order.
    // Each choice is explicit in the URL: profit is the default where product costs cover most sales (issue 17).
    params.set("basis", value);
    const text = params.toString();
    return `${location.pathname}${text ? `?${text}` : ""}`;
  };
  return (
    <InlineStack gap="200" blockAlign="center">
      <Text as="span" tone="subdued">
        <HelpLabel term="money-basis" label="Show amounts as" />
      </Text>
      <ButtonGroup variant="segmented">
        <Button url={urlFor("revenue")} pressed={basis.basis === "revenue"}>
          Revenue
        </Button>
        <Button url={urlFor("profit")} pressed={basis.basis === "profit"}>
          {`Profit (${percent(basis.grossMargin, 0)} margin)`}
        </Button>
      </ButtonGroup>
      {basis.marginSource === "costs" && basis.costCoverage !== undefined ? (
        // Issue 17: profit comes from product costs; say how much of it fell back to the margin in Settings.
        <Text as="span" tone="subdued">
          {`Product costs known for ${percent(basis.costCoverage, 0)} of net sales; ${percent(1 - basis.costCoverage, 0)} at your fallback margin`}
        </Text>
      ) : null}
    </InlineStack>
  );
}
