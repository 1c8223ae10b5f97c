import { Box, SkeletonBodyText } from "@shopify/polaris";
import type { Annotation, DataSeries, LineChartProps } from "@shopify/polaris-viz";
import { type ComponentType, type ReactNode, useEffect, useState } from "react";

// A polaris-viz line chart rendered in the browser only: the chart library measures the DOM
// and is not needed for the first paint. The box keeps its height before, during and after
// loading, so nothing below it moves (no layout shift). The figures are always also in a
// table on the page; the chart is the picture of them (aria-hidden is NOT set: polaris-viz
// adds its own accessible labels).

interface Viz {
  PolarisVizProvider: ComponentType<{ children: ReactNode }>;
  LineChart: ComponentType<LineChartProps>;
}

let vizModule: Promise<Viz> | undefined;
const loadViz = () => (vizModule ??= import("@shopify/polaris-viz").then((m) => ({ PolarisVizProvider: m.PolarisVizProvider, LineChart: m.LineChart })));

export interface LazyLineChartProps {
  data: DataSeries[];
  /** Fixed height in px, reserved before the chart loads. */
  height: number;
  /** Names the chart for screen readers and says where its figures are in words. */
  label: string;
  annotations?: Annotation[];
  formatY?: (value: number) => string;
  formatX?: (value: string) => string;
}

export function LazyLineChart({ data, height, label, annotations, formatY, formatX }: LazyLineChartProps) {
  const [viz, setViz] = useState<Viz | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loadViz().then(
      (loaded) => live && setViz(loaded),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, []);
  return (
    <div role="figure" aria-label={label} style={{ height, position: "relative" }}>
      {viz ? (
        <viz.PolarisVizProvider>
          <viz.LineChart
            data={data}
            theme="Light"
            isAnimated={false}
            annotations={annotations}
            yAxisOptions={formatY ? { labelFormatter: (value) => formatY(Number(value)) } : undefined}
            xAxisOptions={formatX ? { labelFormatter: (value) => formatX(String(value)) } : undefined}
          />
        </viz.PolarisVizProvider>
      ) : failed ? (
        <Box padding="400">The chart could not be drawn; the table below has the same figures.</Box>
      ) : (
        <Box padding="400">
          <SkeletonBodyText lines={6} />
        </Box>
      )}
    </div>
  );
}
