import { BlockStack, Box, SkeletonBodyText, Text } from "@shopify/polaris";
import vizStyles from "@shopify/polaris-viz/build/esm/styles.css?url";
import { type ReactNode, Suspense, lazy, useEffect, useState } from "react";

// Chart wrappers with a reserved height: the server renders a placeholder of the chart's
// exact size and a table of the same figures (visually hidden, for screen readers and for
// anyone without JavaScript); polaris-viz replaces the placeholder after hydration. Nothing
// below the chart moves when it arrives.

/** Routes that draw charts add these to their `links` (polaris-viz's stylesheet, once per page). */
export const chartLinks = () => [{ rel: "stylesheet", href: vizStyles }];

export interface ChartSeries {
  name: string;
  data: { key: string; value: number | null }[];
}

export interface ChartSpec {
  kind: "bar" | "line";
  /** Bars: horizontal (labels on the left, the default) or vertical. */
  direction?: "horizontal" | "vertical";
  series: ChartSeries[];
  formatValue: (value: number) => string;
  /** Axis labels, when shorter than formatValue's (e.g. compact money); default formatValue. */
  formatAxis?: (value: number) => string;
  /** Line charts: the x-axis labels (e.g. ISO days to short dates). */
  formatKey?: (key: string) => string;
  yMax?: number;
  /** Axis titles, drawn as text beside the chart (polaris-viz has none): what each axis measures, with its unit. */
  axisTitles?: { x: string; y: string };
}

const VizChart = lazy(() => import("./viz-chart"));

function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

export interface ChartProps {
  /** What the chart shows, in words (its accessible name and the hidden table's caption). */
  title: string;
  spec: ChartSpec;
  /** Reserved height in pixels (the chart never changes the layout). */
  height: number;
  /** Shown instead of the chart when there is nothing to draw. */
  empty?: ReactNode;
}

export function Chart({ title, spec, height, empty }: ChartProps) {
  const hydrated = useHydrated();
  const hasData = spec.series.some((series) => series.data.some((point) => point.value !== null));
  const keys = spec.series[0]?.data.map((point) => point.key) ?? [];
  const chart = (
    <div style={{ height, position: "relative" }} role="figure" aria-label={title}>
      {!hasData ? (
        <Box minHeight={`${height}px`}>
          <BlockStack align="center" inlineAlign="center">
            {empty ?? <Text as="p" tone="subdued">No data to chart yet.</Text>}
          </BlockStack>
        </Box>
      ) : hydrated ? (
        <div style={{ height }} aria-hidden="true">
          <Suspense fallback={<ChartPlaceholder height={height} />}>
            <VizChart spec={spec} />
          </Suspense>
        </div>
      ) : (
        <ChartPlaceholder height={height} />
      )}
      {hasData && (
        <table style={visuallyHidden}>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">{spec.kind === "line" ? "Date" : "Item"}</th>
              {spec.series.map((series) => (
                <th scope="col" key={series.name}>
                  {series.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {keys.map((key, index) => (
              <tr key={key}>
                <th scope="row">{spec.formatKey ? spec.formatKey(key) : key}</th>
                {spec.series.map((series) => {
                  const value = series.data[index]?.value ?? null;
                  return <td key={series.name}>{value === null ? "—" : spec.formatValue(value)}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
  if (!spec.axisTitles || !hasData) return chart;
  return (
    <BlockStack gap="100">
      <Text as="p" variant="bodySm" tone="subdued">
        ↑ {spec.axisTitles.y}
      </Text>
      {chart}
      <Text as="p" variant="bodySm" tone="subdued" alignment="center">
        {spec.axisTitles.x} →
      </Text>
    </BlockStack>
  );
}

// Polaris's own visually-hidden rule, inline so the table is hidden even before CSS loads.
const visuallyHidden = {
  position: "absolute",
  width: 1,
  height: 1,
  margin: -1,
  padding: 0,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  border: 0,
  whiteSpace: "nowrap",
} as const;

export function ChartPlaceholder({ height }: { height: number }) {
  return (
    <div style={{ height, display: "flex", alignItems: "center" }} aria-hidden="true">
      <div style={{ width: "100%" }}>
        <SkeletonBodyText lines={Math.max(3, Math.floor(height / 40))} />
      </div>
    </div>
  );
}
