import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type ActionState, LOADING, loadActionState } from "./segment-action";

// The action on a Shopify segment's page (admin.customer-segment-details.action.render).
// Thin on purpose: the segment lookup and what each state offers are in segment-action.ts.

export default async () => {
  render(<SegmentAction />, document.body);
};

function SegmentAction() {
  const [state, setState] = useState<ActionState>(LOADING);
  useEffect(() => {
    void loadActionState(shopify.data.selected[0]?.id, (query, options) => shopify.query(query, options)).then(setState);
  }, []);
  return (
    <s-admin-action heading="Export or sync with Tenure" loading={state.kind === "loading"}>
      <ActionBody state={state} />
      {state.kind === "tenure" && (
        <s-button slot="primary-action" href={state.segmentLink}>
          Open in Tenure
        </s-button>
      )}
      {state.kind === "tenure" && (
        <s-button slot="secondary-actions" href={state.integrationsLink}>
          Klaviyo and Mailchimp
        </s-button>
      )}
      {state.kind === "other" && (
        <s-button slot="primary-action" href={state.segmentsLink}>
          Tenure&apos;s segments
        </s-button>
      )}
      <s-button slot="secondary-actions" onClick={() => shopify.close()}>
        Close
      </s-button>
    </s-admin-action>
  );
}

function ActionBody({ state }: { state: ActionState }) {
  switch (state.kind) {
    case "loading":
      return <s-paragraph>Looking up this segment…</s-paragraph>;
    case "error":
      return <s-banner tone="critical">{state.message}</s-banner>;
    case "other":
      return (
        <s-paragraph>
          {state.segmentName} is not a segment Tenure published. Tenure exports and syncs its own segments, with each customer&apos;s value,
          chance of ordering and segment: publish one from Tenure&apos;s Segments page.
        </s-paragraph>
      );
    case "tenure":
      return (
        <s-paragraph>
          {state.segmentName} is Tenure&apos;s segment. Open it in Tenure to export its customers with their metrics as CSV, or send it to
          Klaviyo or Mailchimp from Integrations.
        </s-paragraph>
      );
  }
}
