import { AppProvider } from "@shopify/polaris";
import en from "@shopify/polaris/locales/en.json";
import { type ReactNode } from "react";
import { renderToString } from "react-dom/server";
import { BENCHMARKS } from "~/display/benchmarks";
import { Chart } from "./charts";
import { change, compactMoney, customerName, money, percent } from "~/display/format";
import { KpiCard } from "./KpiCard";
import { NotReadyState, RefreshFailedBanner } from "./states";

// Server rendering of the shared building blocks: what a screen reader and a first paint get.

const render = (node: ReactNode) => renderToString(<AppProvider i18n={en}>{node}</AppProvider>);
const text = (html: string) => html.replace(/<!-- -->/g, "").replace(/<[^>]+>/g, " ").replace(/&#x27;/g, "'").replace(/\s+/g, " ");

describe("change against the previous period", () => {
  it("is relative for amounts and in points for rates, with words for screen readers", () => {
    expect(change(110, 100, "relative", String)).toEqual({ text: "+10.0%", direction: "up", description: "up 10.0% from 100" });
    expect(change(0.25, 0.28, "points", (v) => percent(v))).toEqual({ text: "−3.0 pts", direction: "down", description: "down 3.0 pts from 28.0%" });
    expect(change(5, 5, "relative", String)).toMatchObject({ text: "±0.0%", direction: "flat" });
    expect(change(5, 0, "relative", String)).toMatchObject({ text: "new", direction: "up" });
    expect(change(null, 5, "relative", String)).toEqual({ text: null, direction: "flat", description: null });
    expect(change(5, null, "relative", String).text).toBeNull();
  });

  it("formats money exactly per currency, compactly for axes, and never shows a missing figure as zero", () => {
    expect(money(123456, "USD")).toBe("$1,234.56");
    expect(money(1500, "JPY")).toBe("¥1,500");
    expect(money(null, "USD")).toBe("—");
    expect(money(1234.6, "USD")).toBe("$12.35");
    expect(compactMoney(123456, "USD")).toBe("$1.2K");
    expect(percent(undefined)).toBe("—");
    expect(customerName({ id: "7", firstName: " ", lastName: null, email: null })).toBe("Customer #7");
  });
});

describe("KpiCard", () => {
  it("shows the value, the coloured change with its words, and the benchmark with its source", () => {
    const html = render(
      <KpiCard
        label="Repeat purchase rate"
        value="31.0%"
        change={change(0.31, 0.3, "points", (v) => percent(v))}
        periodLabel="vs 30 days ago"
        benchmark={{ set: BENCHMARKS.repeatPurchaseRate, formatted: "28%" }}
      />,
    );
    const words = text(html);
    expect(words).toContain("Repeat purchase rate");
    expect(words).toContain("31.0%");
    expect(words).toContain("+1.0 pts");
    expect(words).toContain("up 1.0 pts from 30.0%");
    expect(words).toContain("Benchmark: 28% (DTC average, indicative)");
    expect(html).toContain(`href="${BENCHMARKS.repeatPurchaseRate.sourceUrl}"`);
    expect(html).toMatch(/<h3[^>]*>Repeat purchase rate<\/h3>/);
  });

  it("says when there is no earlier figure instead of inventing a change", () => {
    expect(text(render(<KpiCard label="Average predicted CLV" value="—" change={change(null, null, "relative", String)} />))).toContain("no earlier figure");
  });

  it("keeps every benchmark figure a share with a source and a caveat that says indicative", () => {
    for (const set of Object.values(BENCHMARKS)) {
      for (const figure of [set.headline, ...set.byNiche]) expect(figure.value > 0 && figure.value < 1, figure.label).toBe(true);
      expect(set.caveat).toMatch(/indicative/i);
      expect(set.sourceUrl).toMatch(/^https:\/\//);
    }
  });
});

describe("Chart on the server", () => {
  const spec = {
    kind: "bar" as const,
    series: [{ name: "Customers", data: [{ key: "Champions", value: 0.25 }, { key: "Lost", value: null }] }],
    formatValue: (v: number) => percent(v, 0),
  };

  it("reserves the chart's height and renders its figures as a captioned table, not the chart", () => {
    const html = render(<Chart title="Share of customers by segment" height={320} spec={spec} />);
    expect(html).toContain("height:320px");
    expect(html).toContain('role="figure"');
    expect(html).toContain('aria-label="Share of customers by segment"');
    expect(html).toMatch(/<caption>Share of customers by segment<\/caption>/);
    expect(text(html)).toContain("Champions 25%");
    expect(text(html)).toContain("Lost —");
    expect(html).not.toContain("<svg");
  });

  it("says there is nothing to chart, in the same space", () => {
    const html = render(<Chart title="Empty" height={200} spec={{ ...spec, series: [{ name: "x", data: [] }] }} />);
    expect(html).toContain("height:200px");
    expect(text(html)).toContain("No data to chart yet.");
    expect(html).not.toContain("<table");
  });
});

describe("NotReadyState", () => {
  it("shows the import's progress and links Sync status", () => {
    const html = render(
      <NotReadyState what="Your segments" fit={{ status: null, reason: null, error: null, backfill: { status: "RUNNING", ordersProcessed: 1200, expectedCount: 4800, error: null } }} />,
    );
    expect(text(html)).toContain("importing your orders (1,200 of 4,800 so far)");
    expect(html).toContain('href="/app/sync"');
    expect(html).toMatch(/<progress aria-labelledby="import-progress-label"[^>]*value="25"/);
  });

  it("says what failed and what to do", () => {
    const html = render(<NotReadyState what="Your segments" fit={{ status: "failed", reason: null, error: "out of memory", backfill: null }} />);
    expect(text(html)).toContain("Your segments could not be worked out yet");
    expect(text(html)).toContain("The last analysis of your shop failed: out of memory.");
    expect(text(html)).toContain("open Sync status");
  });
});

describe("RefreshFailedBanner", () => {
  it("says the figures are from the last good refresh, and nothing when there is no error", () => {
    const words = text(render(<RefreshFailedBanner error="neither model converged" asOfIso="2026-06-30" />));
    expect(words).toContain("neither model converged. The figures below are from the last successful refresh (as of Jun 30, 2026)");
    expect(render(<RefreshFailedBanner error={null} asOfIso="2026-06-30" />)).not.toContain("refresh");
  });
});
