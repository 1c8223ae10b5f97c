import { type Page } from "playwright-core";

// Reading a polaris-viz line chart back from the page: the values its drawn line stands at,
// in the chart's own y-axis units. What the browser tests compare with the tables beside the
// charts, so a chart caught half-drawn (its line still at 0) fails them.

/**
 * The drawn line's value at each of its `points` equally spaced x positions (null where the
 * line has no point near), in the units of the y-axis labels (parsed as numbers: "$1,234.50"
 * reads 1234.5). `figureLabel`: the start of the chart's accessible name.
 */
export async function drawnLineValues(page: Page, figureLabel: string, points: number): Promise<(number | null)[]> {
  return page.evaluate(
    ({ figureLabel, points }) => {
      const figure = [...document.querySelectorAll<HTMLElement>('[role="figure"]')].find((el) => (el.getAttribute("aria-label") ?? "").startsWith(figureLabel));
      if (!figure) throw new Error(`no chart labelled "${figureLabel}…"`);
      // The visible line is a gradient seen through a mask drawn with the line's (animated) shape.
      const path = figure.querySelector<SVGPathElement>("mask path");
      if (!path) throw new Error("the chart has no line drawn");
      const matrix = path.getScreenCTM();
      if (!matrix) throw new Error("the line is not laid out");
      const length = path.getTotalLength();
      const drawn: { x: number; y: number }[] = [];
      for (let at = 0; at <= length; at += 0.5) {
        const p = path.getPointAtLength(at);
        drawn.push({ x: matrix.a * p.x + matrix.c * p.y + matrix.e, y: matrix.b * p.x + matrix.d * p.y + matrix.f });
      }
      // The y-axis: labelled ticks ("$120.00"), each at the screen height of its anchor (drawn centred on the tick).
      const anchor = (text: SVGTextElement) => {
        const m = text.getScreenCTM()!;
        const x = Number(text.getAttribute("x") ?? 0);
        const y = Number(text.getAttribute("y") ?? 0);
        return { x: m.a * x + m.c * y + m.e, y: m.b * x + m.d * y + m.f };
      };
      // The y-axis labels stand left of the line; x-axis labels (dates, or numbers such as "7+") under it.
      const lineLeft = Math.min(...drawn.map((point) => point.x));
      // The axes are aria-hidden; the chart's other texts are its rows for screen readers. The
      // x-axis labels (months, dates) are left out: their digits are no y values.
      const ticks = [...figure.querySelectorAll<SVGTextElement>('svg g[aria-hidden="true"] text')]
        .map((text) => ({ value: Number((text.textContent ?? "").replace(/[^0-9.-]/g, "")), raw: text.textContent ?? "", ...anchor(text) }))
        .filter((tick) => /\d/.test(tick.raw) && Number.isFinite(tick.value) && tick.x < lineLeft - 1 && !/Month|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/.test(tick.raw));
      const distinct = [...new Map(ticks.map((tick) => [tick.value, tick])).values()].sort((a, b) => a.value - b.value);
      if (distinct.length < 2) throw new Error(`the y-axis has fewer than two labelled ticks: ${JSON.stringify(ticks)}`);
      const [low, high] = [distinct[0], distinct[distinct.length - 1]];
      const valueAt = (y: number) => low.value + ((y - low.y) * (high.value - low.value)) / (high.y - low.y);
      const xs = drawn.map((point) => point.x);
      const left = Math.min(...xs);
      const right = Math.max(...xs);
      const step = points > 1 ? (right - left) / (points - 1) : 0;
      return Array.from({ length: points }, (_, k) => {
        const x = left + k * step;
        let best: { x: number; y: number } | null = null;
        for (const point of drawn) if (!best || Math.abs(point.x - x) < Math.abs(best.x - x)) best = point;
        return best && Math.abs(best.x - x) <= Math.max(2, step / 4) ? valueAt(best.y) : null;
      });
    },
    { figureLabel, points },
  );
}

/** "$1,234.56" → 1234.56. */
export const moneyValue = (text: string) => Number(text.replace(/[^0-9.-]/g, ""));
