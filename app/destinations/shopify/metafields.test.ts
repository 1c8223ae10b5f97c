import { describe, expect, it } from "vitest";
import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { type ProfileFigures, type ProfileShop, tenureProfileProperties } from "~/display/profile-properties";
import {
  TENURE_METAFIELD_DEFINITIONS,
  TENURE_METAFIELD_KEYS,
  TENURE_METAFIELD_NAMESPACE,
  decimalFraction,
  decimalMoney,
  shopifyDateTime,
  tenureMetafieldValues,
} from "./metafields";

const figures: ProfileFigures = {
  segment: "champions",
  behaviours: ["repeat-buyer", "vip"],
  netSpentMinor: "123450",
  predictedClvMinor: "98765",
  expectedPurchases365d: 2.5,
  expectedOrderValueMinor: "4000",
  chanceOfOrder90d: 0.123456,
  pAlive: 0.9,
  expectedNextOrderDay: "2027-01-15",
};
const shop: ProfileShop = { currency: "USD", labels: { champions: "Best of the best" }, horizonDays: 365 };
const scoredAt = new Date("2026-12-06T21:50:43.123Z");

const valueOf = (write: ReturnType<typeof tenureMetafieldValues>, key: string) => write.set.find((entry) => entry.key === key)?.value;

describe("Tenure's customer metafield definitions", () => {
  it("live under the app-reserved namespace, merchant-readable, with unique keys Shopify accepts", () => {
    expect(TENURE_METAFIELD_NAMESPACE).toBe("$app");
    const keys = TENURE_METAFIELD_DEFINITIONS.map((definition) => definition.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const definition of TENURE_METAFIELD_DEFINITIONS) {
      // Shopify: keys 2-64 characters of letters, digits, hyphens and underscores.
      expect(definition.key).toMatch(/^[a-zA-Z0-9_-]{2,64}$/);
      expect(definition.name.length).toBeLessThanOrEqual(255);
      expect(definition.description.length).toBeLessThanOrEqual(255);
      expect(definition.access).toEqual({ admin: "MERCHANT_READ", storefront: "NONE" });
    }
  });

  it("use only types the customer segment editor filters on", () => {
    for (const definition of TENURE_METAFIELD_DEFINITIONS) {
      expect(["single_line_text_field", "list.single_line_text_field", "number_decimal", "date", "date_time"]).toContain(definition.type);
    }
  });

  it("allow exactly the RFM segment keys and the behaviour keys as values", () => {
    const choicesOf = (key: string) => {
      const validation = TENURE_METAFIELD_DEFINITIONS.find((definition) => definition.key === key)?.validations.find((entry) => entry.name === "choices");
      return JSON.parse(validation?.value ?? "null") as string[];
    };
    expect(choicesOf(TENURE_METAFIELD_KEYS.rfmSegment)).toEqual(Object.values(SEGMENT_DEFINITIONS).map((definition) => definition.key));
    expect(choicesOf(TENURE_METAFIELD_KEYS.behaviours)).toEqual([...BEHAVIOURAL_SEGMENT_KEYS]);
    // Shopify takes at most 128 choices.
    expect(choicesOf(TENURE_METAFIELD_KEYS.rfmSegment).length).toBeLessThanOrEqual(128);
  });
});

describe("tenureMetafieldValues", () => {
  it("writes every figure as Shopify's value strings", () => {
    const write = tenureMetafieldValues(figures, shop, scoredAt);
    expect(write.clear).toEqual([]);
    expect(write.set).toEqual([
      { key: "rfm_segment", type: "single_line_text_field", value: "champions" },
      { key: "behaviours", type: "list.single_line_text_field", value: '["repeat-buyer","vip"]' },
      { key: "expected_spend_12m", type: "number_decimal", value: "987.65" },
      { key: "historic_value", type: "number_decimal", value: "1234.50" },
      { key: "chance_of_ordering_90d", type: "number_decimal", value: "0.1235" },
      { key: "expected_next_order", type: "date", value: "2027-01-15" },
      { key: "last_scored", type: "date_time", value: "2026-12-06T21:50:43Z" },
    ]);
  });

  it("agrees with the figures Klaviyo, Mailchimp and the export get", () => {
    for (const horizonDays of [365, 180]) {
      const properties = tenureProfileProperties(figures, { ...shop, horizonDays });
      const write = tenureMetafieldValues(figures, { ...shop, horizonDays }, scoredAt);
      expect(Number(valueOf(write, "expected_spend_12m"))).toBe(properties.tenure_predicted_value_12m);
      expect(Number(valueOf(write, "historic_value"))).toBe(properties.tenure_historic_value);
      expect(Number(valueOf(write, "chance_of_ordering_90d"))).toBe(properties.tenure_chance_of_ordering_90d);
      expect(valueOf(write, "expected_next_order")).toBe(properties.tenure_next_order_date);
    }
    // horizon 180: 2.5 expected orders x 40.00
    expect(valueOf(tenureMetafieldValues(figures, { ...shop, horizonDays: 180 }, scoredAt), "expected_spend_12m")).toBe("100.00");
  });

  it("clears the figures Tenure lacks instead of writing them empty", () => {
    const write = tenureMetafieldValues(
      { ...figures, segment: null, behaviours: [], predictedClvMinor: null, chanceOfOrder90d: null, expectedNextOrderDay: null, netSpentMinor: null },
      shop,
      scoredAt,
    );
    expect(write.clear).toEqual(["rfm_segment", "behaviours", "expected_spend_12m", "chance_of_ordering_90d", "expected_next_order"]);
    expect(write.set.map((entry) => [entry.key, entry.value])).toEqual([
      ["historic_value", "0.00"],
      ["last_scored", "2026-12-06T21:50:43Z"],
    ]);
  });

  it("never writes a value outside the definitions' choices", () => {
    const write = tenureMetafieldValues({ ...figures, segment: "not-a-segment", behaviours: ["vip", "made-up"] }, shop, scoredAt);
    expect(write.clear).toContain("rfm_segment");
    expect(valueOf(write, "behaviours")).toBe('["vip"]');
  });

  it("uses the currency's decimals", () => {
    const yen = tenureMetafieldValues({ ...figures, netSpentMinor: "1500", predictedClvMinor: "2000" }, { ...shop, currency: "JPY" }, scoredAt);
    expect(valueOf(yen, "historic_value")).toBe("1500");
    expect(valueOf(yen, "expected_spend_12m")).toBe("2000");
    const dinar = tenureMetafieldValues({ ...figures, netSpentMinor: "1234" }, { ...shop, currency: "KWD" }, scoredAt);
    expect(valueOf(dinar, "historic_value")).toBe("1.234");
  });
});

describe("value formatting", () => {
  it("never uses exponent notation", () => {
    expect(decimalFraction(0.00001)).toBe("0");
    expect(decimalFraction(0.0001)).toBe("0.0001");
    expect(decimalFraction(1)).toBe("1");
    expect(decimalMoney(1e12 + 0.5, "USD")).toBe("1000000000000.50");
    expect(decimalMoney(-3.2, "USD")).toBe("-3.20");
  });

  it("writes date_time in UTC to the second", () => {
    expect(shopifyDateTime(new Date("2026-01-02T03:04:05.999Z"))).toBe("2026-01-02T03:04:05Z");
  });
});
