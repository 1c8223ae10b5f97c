// Tenure's Shopify Flow triggers as data: each trigger's handle (its extension's folder
// under extensions/) and the fields of its payload. The extensions' shopify.extension.toml
// files declare the same fields (tests/extensions/extension-tomls.test.ts checks they agree),
// so the code that fires a trigger (flowTriggerReceive) builds its payload from these
// definitions and cannot drift from what Flow was told to expect. Pure data, no I/O.

/**
 * The field types a trigger's [[settings.fields]] may have: Flow's customer reference and the
 * custom types Shopify CLI 4.8 accepts for a trigger (it refuses others at build and deploy,
 * date and date_time included; schema.<type> custom types are not used here).
 */
export const FLOW_TRIGGER_FIELD_TYPES = ["customer_reference", "boolean", "email", "single_line_text_field", "number_decimal", "url"] as const;
export type FlowTriggerFieldType = (typeof FLOW_TRIGGER_FIELD_TYPES)[number];

/**
 * A custom field: its key is what the merchant sees in the Flow editor and the key in the
 * payload. Shopify CLI allows letters and spaces only in a key (no digits: "ninety days").
 */
export interface FlowTriggerField {
  key: string;
  type: Exclude<FlowTriggerFieldType, "customer_reference">;
  description: string;
}

export interface FlowTriggerDefinition {
  /** The extension's handle, also the `handle` argument of flowTriggerReceive (≤ 30 characters). */
  handle: string;
  /** The name merchants pick in Flow (object + past-tense verb, sentence case, no punctuation). */
  name: string;
  description: string;
  /** Every Tenure trigger is about one customer: Flow's customer_reference field, sent as `customer_id`. */
  customerReference: true;
  fields: readonly FlowTriggerField[];
}

/** The payload key Flow reads a customer_reference field from (the customer's numeric id). */
export const CUSTOMER_REFERENCE_PAYLOAD_KEY = "customer_id";

const CHANCE_OF_ORDERING: FlowTriggerField = {
  key: "Chance of ordering in ninety days",
  type: "number_decimal",
  description: "Tenure's chance that the customer orders at least once in the next 90 days, as a percentage from 0 to 100.",
};

export const RFM_SEGMENT_CHANGED: FlowTriggerDefinition = {
  handle: "tenure-rfm-segment-changed",
  name: "Customer RFM segment changed",
  description: "A customer moved from one Tenure RFM segment to another (for example from Loyal to At risk).",
  customerReference: true,
  fields: [
    { key: "From segment", type: "single_line_text_field", description: "The segment the customer left, by the name Tenure shows (empty when first scored)." },
    { key: "To segment", type: "single_line_text_field", description: "The segment the customer is in now, by the name Tenure shows." },
    { key: "From segment key", type: "single_line_text_field", description: "The key of the segment the customer left (for example at-risk); keys never change when segments are renamed." },
    { key: "To segment key", type: "single_line_text_field", description: "The key of the segment the customer is in now (for example champions)." },
    {
      key: "Expected spend next twelve months",
      type: "number_decimal",
      description: "What Tenure expects the customer to spend over the next 12 months, in the shop's currency (the figure of Tenure's customer metafield).",
    },
    CHANCE_OF_ORDERING,
  ],
};

export const CHURN_RISK: FlowTriggerDefinition = {
  handle: "tenure-churn-risk",
  name: "Customer churn risk detected",
  description: "A customer's chance of ordering in the next 90 days fell below the threshold set in Tenure. Sent once each time it crosses the threshold, not on every recompute.",
  customerReference: true,
  fields: [
    CHANCE_OF_ORDERING,
    { key: "Threshold", type: "number_decimal", description: "The shop's churn-risk threshold in Tenure, as a percentage from 0 to 100." },
  ],
};

export const DUE_TO_REORDER: FlowTriggerDefinition = {
  handle: "tenure-due-to-reorder",
  name: "Customer reorder date reached",
  description: "The day Tenure expects a customer's next order has come (checked once a day in the shop's time zone).",
  customerReference: true,
  fields: [
    {
      key: "Expected next order date",
      type: "single_line_text_field",
      description: "The day Tenure expects the customer's next order, in the shop's time zone, as YYYY-MM-DD (for example 2027-01-15).",
    },
  ],
};

export const FLOW_TRIGGERS: readonly FlowTriggerDefinition[] = [RFM_SEGMENT_CHANGED, CHURN_RISK, DUE_TO_REORDER];
