import path from "node:path";
import { type Page } from "playwright-core";
import { loadMetricsSettings, saveSettings } from "~/data/settings.server";
import { GLOSSARY, glossaryTerm, normaliseLabel, termOfLabel } from "~/display/glossary";
import { ARTIFACTS_DIR, screenshot } from "./browser";
import { demoAppForFile } from "./harness";

// No figure without a definition (issue 13): every page of the demo shop is read the way a
// merchant sees it, and each visible label of a figure (card titles, KPI and figure labels,
// table column headers) must be a label of a glossary term (app/display/glossary.ts) and
// carry its help text (the help component marks it, data-term), and a marked label must be
// one of the labels of the term it claims. Headings that only name a part of a page, with no
// figure of their own, are listed below, one by one.
// And the help itself works: a keyboard opens it, and its link lands on the term's entry.

// The same fixed history as pages.test.ts, so the model fits and every prediction shows.
const app = demoAppForFile({ label: "glossary", customers: 300, endAt: new Date("2026-06-30T12:00:00Z") });

/** Headings that name a part of a page, not a figure: nothing to define. */
const SECTION_HEADINGS: readonly (string | RegExp)[] = [
  "Key figures",
  "Who is in it",
  "Suggested action",
  "Figures",
  "Tags",
  "Outlook",
  // The customer page's card of spend figures, each of which has its own help.
  "Value",
  "Money",
  "Segment names",
  // Settings' cards of the Shopify write-back's tags and Flow's churn-risk threshold (issue 15).
  "Shopify",
  "Shopify Flow",
  "#",
  "All customers",
  // Cart abandoners' page: the card of their carts, whose figures and columns each have their help.
  "Their carts",
  /^Customers in .+$/,
];

const isSection = (text: string) => SECTION_HEADINGS.some((heading) => (typeof heading === "string" ? heading === text : heading.test(text)));

interface ShownLabel {
  text: string;
  /** The term the help component marked it with, if any. */
  term: string | null;
  where: string;
}

/** The page's visible figure labels: marked ones, and headings, column headers and figure labels that carry no mark. */
async function shownLabels(page: Page): Promise<ShownLabel[]> {
  return page.evaluate(() => {
    const root = document.querySelector(".Polaris-Page") ?? document.body;
    // Visually hidden text (clipped to a pixel) is for screen readers: a chart's data table, "Month 3" behind "M3".
    const clipped = (element: Element) => {
      for (let at: Element | null = element; at && at !== root; at = at.parentElement) {
        const style = getComputedStyle(at);
        if ((style.clip && style.clip !== "auto") || (style.clipPath && style.clipPath !== "none")) return true;
        const box = at.getBoundingClientRect();
        if (style.overflow === "hidden" && box.width <= 1 && box.height <= 1) return true;
      }
      return false;
    };
    const visible = (element: Element) => (element as HTMLElement).checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && !clipped(element);
    // The text a sighted merchant reads: visible text nodes only.
    const text = (element: Element) => {
      const parts: string[] = [];
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) if (node.parentElement && visible(node.parentElement)) parts.push(node.textContent ?? "");
      return parts.join("").replace(/\s+/g, " ").trim();
    };
    const labels: { text: string; term: string | null; where: string }[] = [];
    for (const element of root.querySelectorAll("[data-term]")) {
      if (visible(element)) labels.push({ text: text(element), term: element.getAttribute("data-term"), where: element.parentElement?.tagName.toLowerCase() ?? "" });
    }
    for (const element of root.querySelectorAll("h2, h3, thead th, [data-figure-label]")) {
      // A banner's title is a message, not a figure's label.
      if (!visible(element) || element.closest(".Polaris-Banner") || element.querySelector("[data-term]") || element.closest("[data-term]")) continue;
      const shown = text(element);
      if (shown) labels.push({ text: shown, term: null, where: element.hasAttribute("data-figure-label") ? "figure" : element.tagName.toLowerCase() });
    }
    return labels;
  });
}

/** What is wrong with a page's labels, one line each (empty when every figure is defined). */
function undefinedLabels(path: string, labels: ShownLabel[]): string[] {
  const problems: string[] = [];
  for (const label of labels) {
    const term = termOfLabel(label.text);
    if (label.term !== null) {
      if (term?.id !== label.term) problems.push(`${path}: "${label.text}" is marked as ${label.term}, whose labels are ${JSON.stringify(glossaryTerm(label.term).labels)}`);
    } else if (isSection(normaliseLabel(label.text))) {
      continue;
    } else if (!term) {
      problems.push(`${path}: "${label.text}" (${label.where}) has no glossary term`);
    } else {
      problems.push(`${path}: "${label.text}" (${label.where}) is defined (${term.id}) but shows no help text`);
    }
  }
  return problems;
}

async function firstRow<T extends Record<string, unknown>>(sql: string): Promise<T> {
  const { rows } = await app.pool.query<T>(sql, [app.shop]);
  if (!rows[0]) throw new Error(`no row for ${app.shop}: ${sql}`);
  return rows[0];
}

/** Every page a merchant opens, with a segment of each kind and the customer of highest value. */
async function merchantPages(): Promise<string[]> {
  const segment = await firstRow<{ segment: string }>(
    `SELECT segment FROM "CustomerMetrics" WHERE shop = $1 AND segment IS NOT NULL GROUP BY segment ORDER BY count(*) DESC, segment LIMIT 1`,
  );
  const customer = await firstRow<{ id: string }>(
    `SELECT "customerId"::text AS id FROM "CustomerMetrics" WHERE shop = $1 AND orders > 1 ORDER BY "customerId" LIMIT 1`,
  );
  // Klaviyo connected, with a segment and a finished sync, so the Integrations page shows its figures (issue 14).
  await app.pool.query(
    `WITH d AS (
       INSERT INTO "Destination" (shop, kind, "sealedCredentials", account) VALUES ($1, 'klaviyo', 'v1:00000000:iv:tag:none', '{"name": "Demo"}'::jsonb)
       ON CONFLICT (shop, kind) DO NOTHING RETURNING id
     ), s AS (INSERT INTO "DestinationSegment" ("destinationId", "segmentKey", "remoteName") SELECT id, $2, 'Tenure' FROM d)
     INSERT INTO "DestinationRun" ("destinationId", kind, status, total, compared, sent, "leftOut", "finishedAt") SELECT id, 'initial', 'done', 10, 10, 6, 4, now() FROM d`,
    [app.shop, segment.segment],
  );
  return [
    "/app",
    "/app/segments",
    `/app/segments/${segment.segment}`,
    "/app/segments/repeat-buyer",
    "/app/segments/cart-abandoner",
    "/app/customers",
    `/app/customers/${customer.id}`,
    "/app/cohorts",
    "/app/drivers",
    "/app/model",
    "/app/settings",
    "/app/sync",
    "/app/integrations",
  ];
}

describe("every figure shown has a definition in the glossary", () => {
  it("the refit made predictions, so every figure is on the pages", () => {
    expect(app.seeded.refit?.status).toBe("ready");
  });

  it("each page's card titles, figure labels and column headers are glossary labels", async () => {
    const problems: string[] = [];
    let marked = 0;
    for (const path of await merchantPages()) {
      const { page, problems: pageProblems } = await app.open(path);
      const labels = await shownLabels(page);
      // A page read as empty would pass for the wrong reason.
      expect(labels.length, `${path} shows no labels`).toBeGreaterThan(2);
      marked += labels.filter((label) => label.term !== null).length;
      problems.push(...undefinedLabels(path, labels));
      expect(pageProblems, path).toEqual([]);
    }
    expect(problems).toEqual([]);
    // The help component is in use, not only the scan.
    expect(marked).toBeGreaterThan(20);
  });

  it("the glossary page has an entry under its own anchor for every term", async () => {
    const { page, problems } = await app.open("/app/glossary");
    const ids = await page.evaluate(() => [...document.querySelectorAll("[id]")].map((element) => element.id));
    for (const term of GLOSSARY) expect(ids, term.id).toContain(term.id);
    await screenshot(page, "glossary");
    expect(problems).toEqual([]);
  });

  it("the settings that figures depend on link to their glossary entries", async () => {
    const { page, problems } = await app.open("/app/settings");
    const hrefs = await page.getByRole("link", { name: "In the glossary" }).evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    expect(hrefs).toEqual(["gross-margin", "cac", "discount-rate", "horizon"].map((id) => `/app/glossary#${id}`));
    expect(problems).toEqual([]);
  });

  it("a help button opens from the keyboard with the definition, and its link lands on the term's entry", async () => {
    const { page, problems } = await app.open("/app");
    const button = page.locator("button[aria-label^='What “']").first();
    const name = (await button.getAttribute("aria-label"))!.replace(/^What “|” means$/g, "");
    const term = termOfLabel(name)!;
    expect(term).not.toBeNull();
    await button.focus();
    await page.keyboard.press("Enter");
    const popover = page.locator(".Polaris-Popover");
    await expect(popover.getByText(term.definition).isVisible()).resolves.toBe(true);
    await expect(button.getAttribute("aria-expanded")).resolves.toBe("true");
    const link = popover.getByRole("link", { name: /in the glossary/ });
    await expect(link.getAttribute("href")).resolves.toBe(`/app/glossary#${term.id}`);
    // The window as it is, not a full-page shot: resizing to the page's height can close the popover.
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "help-open.png"), animations: "disabled" });
    await page.keyboard.press("Escape");
    await expect(button.getAttribute("aria-expanded")).resolves.toBe("false");
    await button.click();
    await popover.getByRole("link", { name: /in the glossary/ }).click();
    await page.waitForURL(`**/app/glossary#${term.id}`);
    const entry = page.locator(`[id="${term.id}"]`);
    await entry.waitFor({ state: "visible" });
    await expect(entry.locator("h3").textContent()).resolves.toBe(term.labels[0]);
    // Scrolled to: the entry is on screen, not somewhere down the page.
    await page.waitForFunction((id) => {
      const box = document.getElementById(id)!.getBoundingClientRect();
      return box.top >= 0 && box.top < window.innerHeight;
    }, term.id);
    // And stands out: the eye finds it after the jump.
    await page.waitForFunction((id) => getComputedStyle(document.getElementById(id)!).backgroundColor !== "rgba(0, 0, 0, 0)", term.id);
    // What the merchant sees on arriving (the window, not the whole long page).
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "glossary-entry.png") });
    expect(problems).toEqual([]);
  });

  // Last: it sets a margin, which the pages read at once (no refit needed for the money basis).
  it("with a margin set, the profit view's labels (named profit, and the toggle) are glossary labels with their help", async () => {
    const settings = await loadMetricsSettings(app.pool, app.shop);
    const { timezone: _timezone, currency: _currency, ...stored } = settings;
    await saveSettings(app.pool, app.shop, { ...stored, grossMargin: 0.4 });
    const problems: string[] = [];
    for (const path of (await merchantPages()).filter((p) => !["/app/settings", "/app/sync", "/app/integrations"].includes(p))) {
      const { page, problems: pageProblems } = await app.open(`${path}?basis=profit`);
      const labels = await shownLabels(page);
      // The page shows profit and says so.
      if (["/app", "/app/segments"].includes(path)) expect(labels.map((label) => label.text), path).toContainEqual(expect.stringMatching(/\(profit\)$/));
      problems.push(...undefinedLabels(`${path}?basis=profit`, labels));
      expect(pageProblems, path).toEqual([]);
    }
    expect(problems).toEqual([]);
  });
});
