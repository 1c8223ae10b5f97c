import { AppProvider } from "@shopify/polaris";
import en from "@shopify/polaris/locales/en.json";
import { type ReactNode } from "react";
import { renderToString } from "react-dom/server";
import { expectedSpendLabel } from "~/display/glossary";
import { GlossaryLinks, HelpLabel } from "./HelpLabel";

// The help on a figure's label, as a first paint and a screen reader get it.

describe("HelpLabel", () => {
  const render = (node: ReactNode) => renderToString(<AppProvider i18n={en}>{node}</AppProvider>);

  it("renders the label marked with its term and a named button that opens the help", () => {
    const html = render(<HelpLabel term="expected-spend" label={expectedSpendLabel(365)} />);
    expect(html).toContain('data-term="expected-spend"');
    expect(html).toContain("Expected spend, next 12 months");
    expect(html).toMatch(/<button[^>]*aria-expanded="false"[^>]*aria-label="What “Expected spend, next 12 months” means"/);
    // A span, not a div, around the button: the label sits inside headings and paragraphs.
    expect(html.replace('<div id="PolarisPortalsContainer"></div>', "")).not.toMatch(/<div/);
  });

  it("links a table's columns to their glossary entries", () => {
    const html = render(<GlossaryLinks terms={["orders", "spent-to-date", "orders"]} />);
    expect(html).toContain('href="/app/glossary#orders"');
    expect(html).toContain('href="/app/glossary#spent-to-date"');
    expect(html.match(/glossary#orders/g)).toHaveLength(1);
  });
});
