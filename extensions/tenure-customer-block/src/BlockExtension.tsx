import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { BLOCK_HEADING, type BlockState, LOADING, loadBlockState } from "./customer-block";

// The customer details block (admin.customer-details.block.render): Tenure's figures for the
// customer admin is showing. Thin on purpose: what to fetch, how to read the answer and
// what each state shows are in customer-block.ts, which is unit-tested.

export default async () => {
  render(<CustomerBlock />, document.body);
};

function CustomerBlock() {
  const [state, setState] = useState<BlockState>(LOADING);
  useEffect(() => {
    // Admin adds the session token to a relative fetch of the app's own URL.
    void loadBlockState(shopify.data.selected[0]?.id, (input, init) => fetch(input, init)).then(setState);
  }, []);
  const summary = state.kind === "scored" ? state.view.summary : state.kind === "not-scored" ? "Not scored yet" : "";
  return (
    <s-admin-block heading={BLOCK_HEADING} collapsedSummary={summary}>
      <BlockBody state={state} />
    </s-admin-block>
  );
}

function BlockBody({ state }: { state: BlockState }) {
  switch (state.kind) {
    case "loading":
      return <s-spinner accessibilityLabel="Loading Tenure's figures" />;
    case "error":
      return <s-banner tone="critical">{state.message}</s-banner>;
    case "not-scored":
      return (
        <s-stack gap="small-200">
          <s-paragraph>{state.message}</s-paragraph>
          {state.link && <s-link href={state.link}>Open in Tenure</s-link>}
        </s-stack>
      );
    case "scored":
      return (
        <s-stack gap="small-200">
          {state.view.rows.map((row) => (
            <s-stack key={row.label} direction="inline" gap="base" justifyContent="space-between">
              <s-text color="subdued">{row.label}</s-text>
              <s-text type="strong">{row.text}</s-text>
            </s-stack>
          ))}
          <s-text color="subdued">{state.view.asOfText}</s-text>
          <s-link href={state.view.link}>See this customer in Tenure</s-link>
        </s-stack>
      );
  }
}
