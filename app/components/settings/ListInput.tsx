import { BlockStack, Button, Checkbox, InlineStack, Tag, Text, TextField } from "@shopify/polaris";
import { useState } from "react";

// A list of short values (order tags, sales channels): suggestions as checkboxes, anything
// else typed and added with Enter or the Add button, each shown as a removable tag.

interface ListInputProps {
  id: string;
  label: string;
  helpText: string;
  values: string[];
  suggestions?: string[];
  error?: string;
  onChange: (values: string[]) => void;
  /** How a value is shown (a sales channel's code -> its name); the value itself is what is stored. */
  labelOf?: (value: string) => string;
}

export function ListInput({ id, label, helpText, values, suggestions = [], error, onChange, labelOf = (value) => value }: ListInputProps) {
  const [draft, setDraft] = useState("");
  const has = (value: string) => values.some((existing) => existing.toLowerCase() === value.toLowerCase());
  const add = () => {
    const value = draft.trim();
    if (value !== "" && !has(value)) onChange([...values, value]);
    setDraft("");
  };
  const custom = values.filter((value) => !suggestions.includes(value));
  return (
    <BlockStack gap="200">
      {suggestions.length > 0 && (
        <fieldset style={{ border: 0, margin: 0, padding: 0 }}>
          <legend>
            <Text as="span" variant="bodyMd">
              {label}: seen on your orders
            </Text>
          </legend>
          <InlineStack gap="400">
            {suggestions.map((suggestion) => (
              <Checkbox
                key={suggestion}
                label={labelOf(suggestion)}
                checked={has(suggestion)}
                onChange={(checked) => onChange(checked ? [...values, suggestion] : values.filter((value) => value !== suggestion))}
              />
            ))}
          </InlineStack>
        </fieldset>
      )}
      <div
        onKeyDown={(event) => {
          // Enter adds the value instead of submitting the whole settings form.
          if (event.key === "Enter" && (event.target as HTMLElement).id === id) {
            event.preventDefault();
            add();
          }
        }}
      >
        <TextField
          id={id}
          label={suggestions.length > 0 ? `Other ${label.toLowerCase()}` : label}
          value={draft}
          onChange={setDraft}
          autoComplete="off"
          helpText={helpText}
          error={error}
          connectedRight={
            <Button onClick={add} disabled={draft.trim() === ""}>
              Add
            </Button>
          }
        />
      </div>
      {custom.length > 0 && (
        <InlineStack gap="200">
          {custom.map((value) => (
            <Tag key={value} onRemove={() => onChange(values.filter((existing) => existing !== value))} accessibilityLabel={`Remove ${labelOf(value)}`}>
              {labelOf(value)}
            </Tag>
          ))}
        </InlineStack>
      )}
    </BlockStack>
  );
}
