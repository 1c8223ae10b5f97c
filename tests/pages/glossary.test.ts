import { DEFAULT_METRICS_SETTINGS, saveSettings } from "~/data/settings.server";
import { GLOSSARY, glossaryTerm } from "~/display/glossary";
import { loadGlossaryPage } from "~/pages/glossary.server";
import { uniqueShop } from "../support/db";
import { insertShop, poolForTests } from "../support/precomputed-rows";

// The glossary page reads the settings definitions depend on (horizon, revenue basis,
// margin, the merchant's segment names) for its own shop only, with the defaults before
// anything is saved; and each term says what it is for that shop.

const pool = poolForTests();

describe("glossary page data", () => {
  it("has the defaults before settings are saved: 12 months, net sales, no margin", async () => {
    const shop = uniqueShop("glossary-defaults");
    await insertShop(pool(), shop, { currency: "EUR" });
    const page = await loadGlossaryPage(pool(), shop);
    expect(page.settings).toEqual({ horizonDays: 365, revenueBasis: "net_sales", grossMargin: 1, currency: "EUR", costs: null });
    expect(page.segmentLabels).toEqual({});
    expect(glossaryTerm("expected-spend").inYourShop?.(page.settings)).toBe("Your horizon: the next 12 months.");
    expect(glossaryTerm("profit").inYourShop?.(page.settings)).toMatch(/No product costs and no margin are set/);
  });

  it("reads this shop's saved horizon, margin and segment names, not another shop's", async () => {
    const shop = uniqueShop("glossary-saved");
    const other = uniqueShop("glossary-other");
    await insertShop(pool(), shop);
    await insertShop(pool(), other);
    await saveSettings(pool(), shop, { ...DEFAULT_METRICS_SETTINGS, horizonDays: 180, grossMargin: 0.4, revenueBasis: "total_sales", segmentLabels: { "at-risk": "Slipping" } });
    await saveSettings(pool(), other, { ...DEFAULT_METRICS_SETTINGS, horizonDays: 730, grossMargin: 0.9 });
    const page = await loadGlossaryPage(pool(), shop);
    expect(page.settings).toMatchObject({ horizonDays: 180, grossMargin: 0.4, revenueBasis: "total_sales" });
    expect(glossaryTerm("revenue").inYourShop?.(page.settings)).toBe("Your shop counts total sales as revenue.");
    expect(page.segmentLabels).toEqual({ "at-risk": "Slipping" });
    expect(glossaryTerm("lifetime-value").inYourShop?.(page.settings)).toBe("Spent to date + expected spend over the next 6 months.");
    expect(glossaryTerm("profit").inYourShop?.(page.settings)).toBe("Profit = revenue × 40%.");
    // Every shop-dependent definition reads as a sentence for this shop.
    for (const term of GLOSSARY) if (term.inYourShop) expect(term.inYourShop(page.settings), term.id).toMatch(/\.$/);
  });
});
