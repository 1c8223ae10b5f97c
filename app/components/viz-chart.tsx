// The polaris-viz charts themselves, loaded only in the browser (charts.tsx imports this
// lazily after hydration): polaris-viz measures the DOM and animates with react-spring, so
// it is neither rendered on the server nor part of the first page's JavaScript.
// polaris-viz draws the final frame at once when the browser asks for reduced motion
// (prefers-reduced-motion: reduce); the browser tests' Chromium asks for it, so their
// screenshots and DOM reads see the finished chart, never a half-drawn one.
import { BarChart, LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import { type ChartSpec } from "./charts";

export default function VizChart({ spec }: { spec: ChartSpec }) {
  const format = spec.formatValue;
  const axis = spec.formatAxis ?? spec.formatValue;
  return (
    <PolarisVizProvider>
      {spec.kind === "bar" ? (
        <BarChart
          theme="Light"
          data={spec.series}
          direction={spec.direction ?? "horizontal"}
          showLegend={spec.series.length > 1}
          xAxisOptions={spec.direction === "vertical" ? {} : { labelFormatter: (value) => axis(Number(value)) }}
          yAxisOptions={spec.direction === "vertical" ? { labelFormatter: (value) => axis(Number(value)) } : {}}
          tooltipOptions={{ valueFormatter: (value) => format(Number(value)) }}
        />
      ) : (
        <LineChart
          theme="Light"
          data={spec.series}
          showLegend={spec.series.length > 1}
          xAxisOptions={{ labelFormatter: (value) => spec.formatKey?.(String(value)) ?? String(value) }}
          yAxisOptions={{ labelFormatter: (value) => axis(Number(value)), ...(spec.yMax !== undefined ? { maxYOverride: spec.yMax } : {}) }}
          tooltipOptions={{ valueFormatter: (value) => format(Number(value)) }}
        />
      )}
    </PolarisVizProvider>
  );
}
