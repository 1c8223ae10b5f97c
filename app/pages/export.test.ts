import { describe, expect, it } from "vitest";
import { sqlLiteral } from "~/db/sql-literal";
import { contentDisposition, exportFileName, leftOutText, neutraliseCell, parseExportOptions, presetCells, type ExportRow } from "./export";

// The export's pure parts: the formula guard, the file name and its header, the request's
// options, and the left-out sentence (the stream and the routes: tests/pages/export.test.ts).

describe("neutraliseCell", () => {
  it("prefixes a quote to text a spreadsheet would run", () => {
    for (const cell of ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "\uFF1D1+1", "\uFF0Bx", "\uFF0Dx", "\uFF20x"]) {
      expect(neutraliseCell(cell), JSON.stringify(cell)).toBe(`'${cell}`);
    }
  });

  it("leaves other text, and whole signed numbers (E.164 phones), alone", () => {
    for (const cell of ["", "Ada", "a=b", "+15551234567", "-12", "-12.50", "'quoted", " =space first"]) expect(neutraliseCell(cell)).toBe(cell);
  });
});

describe("sqlLiteral (the COPY's filter values)", () => {
  it("doubles quotes, and doubles backslashes in an E'' string", () => {
    expect(sqlLiteral("O'Neil")).toBe("'O''Neil'");
    expect(sqlLiteral("a\\b'")).toBe(" E'a\\\\b'''");
    expect(sqlLiteral("")).toBe("''");
  });

  it("refuses text with a NUL character, which PostgreSQL cannot hold", () => {
    expect(() => sqlLiteral("a\u0000b")).toThrow(/NUL character/);
  });
});

describe("file names", () => {
  it("is <shop>-<segment>-<date>.csv with anything but letters and digits as dashes", () => {
    expect(exportFileName("my-store.myshopify.com", "Can't lose them", "2026-12-06")).toBe("my-store-Can-t-lose-them-2026-12-06.csv");
    expect(exportFileName("shop.myshopify.com", "../../etc/passwd", "2026-12-06")).toBe("shop-etc-passwd-2026-12-06.csv");
    expect(exportFileName("shop.myshopify.com", "Клиенты", "2026-12-06")).toBe("shop-Клиенты-2026-12-06.csv");
    expect(exportFileName("shop.myshopify.com", "!!!", "2026-12-06")).toBe("shop-export-2026-12-06.csv");
  });

  it("sends an ASCII name, and the UTF-8 one beside it when they differ", () => {
    expect(contentDisposition("shop-Champions-2026-12-06.csv")).toBe('attachment; filename="shop-Champions-2026-12-06.csv"');
    expect(contentDisposition("shop-Zoë-2026-12-06.csv")).toBe(`attachment; filename="shop-Zoe-2026-12-06.csv"; filename*=UTF-8''shop-Zo%C3%AB-2026-12-06.csv`);
  });
});

describe("parseExportOptions", () => {
  it("reads the preset and the consent choice", () => {
    expect(parseExportOptions(new URLSearchParams("preset=tenure"))).toEqual({ ok: true, preset: "tenure", consent: "subscribed" });
    expect(parseExportOptions(new URLSearchParams("preset=klaviyo&consent=all"))).toEqual({ ok: true, preset: "klaviyo", consent: "all" });
  });

  it("says what is wrong with a missing or unknown preset or consent", () => {
    expect(parseExportOptions(new URLSearchParams(""))).toMatchObject({ ok: false, message: expect.stringMatching(/Choose a format/) });
    expect(parseExportOptions(new URLSearchParams("preset=xlsx"))).toMatchObject({ ok: false, message: expect.stringMatching(/Unknown format "xlsx"/) });
    expect(parseExportOptions(new URLSearchParams("preset=tenure&consent=yes"))).toMatchObject({ ok: false, message: expect.stringMatching(/Unknown consent choice "yes"/) });
  });
});

describe("leftOutText", () => {
  it("names how many are left out and why", () => {
    expect(leftOutText({ customers: 200, subscribed: 120, noEmail: 30, notSubscribed: 50 })).toBe(
      "120 of 200 customers; 80 left out: 30 have no email address, 50 are not subscribed to email marketing.",
    );
    expect(leftOutText({ customers: 3, subscribed: 3, noEmail: 0, notSubscribed: 0 })).toBe("All 3 customers are subscribed to email marketing.");
  });
});

describe("presetCells", () => {
  const customer: ExportRow = {
    id: "7",
    email: "a@example.com",
    firstName: "A",
    lastName: "B",
    phone: null,
    tags: [],
    rScore: 5,
    fScore: 4,
    mScore: 3,
    segment: "champions",
    behaviours: ["vip"],
    orders: 2,
    netSpentMinor: "1050",
    predictedClvMinor: "-5",
    expectedPurchases365d: 0.5,
    expectedOrderValueMinor: "3001",
    chanceOfOrder90d: 0.123456,
    chanceOfOrder365d: null,
    pAlive: 1,
    expectedNextOrderDay: "2027-01-02",
    firstOrderDay: null,
    lastOrderDay: null,
    emailConsentState: "SUBSCRIBED",
    emailOptInLevel: null,
    emailConsentUpdatedAt: null,
    smsConsentState: null,
    smsOptInLevel: null,
    smsConsentUpdatedAt: null,
  };

  it("guards the merchant's segment labels, and writes money in major units of the currency", () => {
    const context = { currency: "JPY", labels: { champions: "=Top" }, horizonDays: 365, segmentKey: "champions" };
    expect(presetCells("klaviyo", customer, context)).toEqual(["a@example.com", "", "A", "B", "'=Top", "VIP", -5, 1050, 0.1235, 1, "2027-01-02"]);
  });

  it("writes the 12-month value as the sync does: with another horizon, expected orders in 365 days x expected order value", () => {
    const context = { currency: "USD", labels: {}, horizonDays: 180, segmentKey: null };
    // 0.5 x 30.01 = 15.005, rounded to the cent in minor units (1501), not the 180-day prediction (-0.05).
    expect(presetCells("klaviyo", customer, context)[6]).toBe(15.01);
    expect(presetCells("klaviyo", { ...customer, expectedPurchases365d: null }, context)[6]).toBeNull();
  });

  it("fills the Mailchimp sync's merge fields in its units: the chance of ordering in % (0-100), the tag as the sync names it", () => {
    const context = { currency: "USD", labels: { champions: "=Top" }, horizonDays: 365, segmentKey: "champions" };
    expect(presetCells("mailchimp", customer, context)).toEqual(["a@example.com", "A", "B", "", "Tenure: =Top", "'=Top", -0.05, 12.4, "2027-01-02"]);
    expect(presetCells("mailchimp", { ...customer, segment: null, predictedClvMinor: null, chanceOfOrder90d: null, expectedNextOrderDay: null }, context).slice(5)).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});
