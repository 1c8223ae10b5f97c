import { type TenureProfileProperties } from "./profile-properties";

// Tenure's Mailchimp merge fields, one definition for the Mailchimp sync (which creates them
// in the audience and fills them) and the export's Mailchimp preset (whose columns are named
// as Mailchimp shows the fields, so an import maps each column onto its field, with the
// same units as the sync writes).

export interface TenureMergeField {
  /** At most 10 characters (Mailchimp's limit). */
  tag: string;
  /** What the merchant sees in the audience's fields, and the export column's header. */
  name: string;
  type: "text" | "number" | "date";
  /** The field's value from the profile properties; null: Tenure has no figure. */
  value: (properties: TenureProfileProperties) => string | number | null;
}

const round = (value: number, digits: number): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/**
 * Chance is a percentage (0–100) so that a Mailchimp segment condition reads "greater than
 * 50"; money is in the shop currency's major units; dates are YYYY-MM-DD.
 */
export const TENURE_MERGE_FIELDS: readonly TenureMergeField[] = [
  { tag: "TNR_SEG", name: "Tenure segment", type: "text", value: (p) => p.tenure_rfm_segment },
  {
    tag: "TNR_PV",
    name: "Tenure predicted value (12 months)",
    type: "number",
    value: (p) => (p.tenure_predicted_value_12m === null ? null : round(p.tenure_predicted_value_12m, 2)),
  },
  {
    tag: "TNR_CHANCE",
    name: "Tenure chance of ordering in 90 days (%)",
    type: "number",
    value: (p) => (p.tenure_chance_of_ordering_90d === null ? null : round(p.tenure_chance_of_ordering_90d * 100, 1)),
  },
  { tag: "TNR_NEXT", name: "Tenure expected next order", type: "date", value: (p) => p.tenure_next_order_date },
];

/** The merge fields' values by tag, as the sync sends them: "" clears a figure Tenure no longer has. */
export function tenureMergeFieldValues(properties: TenureProfileProperties): Record<string, string | number> {
  return Object.fromEntries(TENURE_MERGE_FIELDS.map((field) => [field.tag, field.value(properties) ?? ""]));
}
