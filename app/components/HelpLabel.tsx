import { BlockStack, Box, Link, Popover, Text } from "@shopify/polaris";
import { useCallback, useState } from "react";
import { glossaryTerm, glossaryUrl, shortHelp, unitLine } from "~/display/glossary";

// A figure's label with its short help (issue 13): the definition, the unit and whether it is
// revenue or profit, from the glossary (app/display/glossary.ts) by term id, so a label and its
// definition cannot drift apart; and a link to the term on the glossary page. The help opens
// from a button (keyboard and screen readers reach it; the popover takes focus and Escape
// closes it). data-term marks the label for the browser test that reads every page's labels.

/** The label text alone, marked with its term (where a button cannot go, e.g. inside a sort button). */
export function TermText({ term, label, id }: { term: string; label?: string; id?: string }) {
  const definition = glossaryTerm(term);
  return (
    <span data-term={definition.id} id={id}>
      {label ?? definition.labels[0]}
    </span>
  );
}

export interface HelpLabelProps {
  /** The glossary term's id. */
  term: string;
  /** The label as shown, when not the term's name (a horizon in it, "Avg …"). */
  label?: string;
  /** An id for the label text alone (aria-labelledby of a section: its name without the help button's). */
  labelId?: string;
}

export function HelpLabel({ term, label, labelId }: HelpLabelProps) {
  const definition = glossaryTerm(term);
  const shown = label ?? definition.labels[0];
  const [open, setOpen] = useState(false);
  const toggle = useCallback(() => setOpen((was) => !was), []);
  const close = useCallback(() => setOpen(false), []);
  return (
    <span style={{ display: "inline-flex", alignItems: "center", gap: "var(--p-space-100)", maxWidth: "100%" }}>
      <TermText term={term} label={shown} id={labelId} />
      <Popover
        active={open}
        onClose={close}
        preferredAlignment="left"
        autofocusTarget="first-node"
        activatorWrapper="span"
        activator={
          <button type="button" onClick={toggle} aria-expanded={open} aria-label={`What “${shown}” means`} style={BUTTON_STYLE}>
            <InfoGlyph />
          </button>
        }
      >
        <Box padding="300" maxWidth="22rem">
          <BlockStack gap="200">
            <Text as="p" fontWeight="semibold">
              {shown}
            </Text>
            <Text as="p">{definition.definition}</Text>
            {unitLine(definition) && (
              <Text as="p" variant="bodySm" tone="subdued">
                {unitLine(definition)}
              </Text>
            )}
            <Link url={glossaryUrl(term)}>{`“${definition.labels[0]}” in the glossary`}</Link>
          </BlockStack>
        </Box>
      </Popover>
    </span>
  );
}

/**
 * An IndexTable heading for a term: the marked label, and the short help as the heading's
 * tooltip (a sortable heading is a button, so no second button can sit in it; the table's
 * GlossaryLinks line carries the links).
 */
export function termHeading(term: string, label?: string) {
  return { title: <TermText term={term} label={label} />, tooltipContent: shortHelp(term), tooltipWidth: "wide" as const };
}

/** "What the columns mean: Orders · Spent to date · …": links to the glossary for a table's columns. */
export function GlossaryLinks({ terms, lead = "What the columns mean:" }: { terms: readonly string[]; lead?: string }) {
  const unique = [...new Set(terms)];
  return (
    <Text as="p" variant="bodySm" tone="subdued">
      {lead}{" "}
      {unique.map((term, index) => (
        <span key={term}>
          {index > 0 && " · "}
          <Link url={glossaryUrl(term)}>{glossaryTerm(term).labels[0]}</Link>
        </span>
      ))}
    </Text>
  );
}

const BUTTON_STYLE: React.CSSProperties = {
  display: "inline-flex",
  alignItems: "center",
  justifyContent: "center",
  width: 20,
  height: 20,
  padding: 0,
  border: "none",
  borderRadius: "50%",
  background: "transparent",
  color: "var(--p-color-icon-secondary, #616161)",
  cursor: "pointer",
  flex: "none",
};

/** A circled "i" (no icon package: the app depends on Polaris alone). */
function InfoGlyph() {
  return (
    <svg width="16" height="16" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <circle cx="10" cy="10" r="8.25" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <circle cx="10" cy="6.4" r="1.1" fill="currentColor" />
      <rect x="9.2" y="8.6" width="1.6" height="6" rx="0.8" fill="currentColor" />
    </svg>
  );
}
