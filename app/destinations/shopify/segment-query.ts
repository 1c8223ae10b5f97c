import { BEHAVIOUR_VALUES, RFM_SEGMENT_VALUES, TENURE_METAFIELD_KEYS } from "./metafields";

// The Shopify customer segment query of a Tenure segment (issue 15): what segmentCreate and
// segmentUpdate receive, and what the segment templates show. Pure.
//
// Grammar used, and only it (https://shopify.dev/docs/api/shopifyql/segment-query-language-reference,
// https://help.shopify.com/en/manual/customers/customer-segmentation/reference-guide/metafield-segments):
//   <clause>    ::= <attribute> <operator> <condition>
//   <attribute> ::= metafields.<namespace>.<key>
//   text metafield:                  <attribute> = '<value>'
//   text metafield, list of values:  <attribute> CONTAINS '<value>'
// Text conditions are single-quoted. Shopify documents no escape inside a quoted value, so a
// value holding a quote, a backslash or a control character is refused here rather than sent
// in a form Shopify may read differently. Tenure's values are segment keys (lowercase words
// and hyphens, the metafields' `choices`), so nothing Tenure publishes is refused.

export class SegmentQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SegmentQueryError";
  }
}

// A resolved namespace (app--<id>) and a key: letters, digits, hyphens, underscores.
const IDENTIFIER = /^[A-Za-z0-9_-]{2,255}$/;

/** A text condition's value in single quotes; throws for what cannot be quoted safely. */
export function segmentTextLiteral(value: string): string {
  if (value.length === 0) throw new SegmentQueryError("a segment query value cannot be empty");
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/['\\\u0000-\u001f\u007f]/.test(value)) {
    throw new SegmentQueryError(`the segment query value ${JSON.stringify(value)} holds a quote, a backslash or a control character, which Shopify's segment query language has no documented escape for`);
  }
  return `'${value}'`;
}

/** `metafields.<namespace>.<key>`, for a namespace as Shopify resolved it (never "$app"). */
export function metafieldAttribute(namespace: string, key: string): string {
  if (!IDENTIFIER.test(namespace)) {
    throw new SegmentQueryError(`"${namespace}" is not a resolved metafield namespace (read it back from the definition: "$app" becomes "app--<id>")`);
  }
  if (!IDENTIFIER.test(key)) throw new SegmentQueryError(`"${key}" is not a metafield key`);
  return `metafields.${namespace}.${key}`;
}

/**
 * The Shopify customer segment query for a Tenure segment key: an RFM segment filters on the
 * RFM segment metafield (=), a behaviour on the behaviours list metafield (CONTAINS).
 * `namespace` is Tenure's namespace as the shop's definitions report it (app--<id>).
 */
export function shopifySegmentQuery(segmentKey: string, namespace: string): string {
  if (RFM_SEGMENT_VALUES.includes(segmentKey)) {
    return `${metafieldAttribute(namespace, TENURE_METAFIELD_KEYS.rfmSegment)} = ${segmentTextLiteral(segmentKey)}`;
  }
  if (BEHAVIOUR_VALUES.includes(segmentKey)) {
    return `${metafieldAttribute(namespace, TENURE_METAFIELD_KEYS.behaviours)} CONTAINS ${segmentTextLiteral(segmentKey)}`;
  }
  throw new SegmentQueryError(`"${segmentKey}" is not a Tenure segment key`);
}
