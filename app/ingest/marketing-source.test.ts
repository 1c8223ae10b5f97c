import { describe, expect, it } from "vitest";
import { marketingSource } from "./marketing-source";

describe("marketingSource", () => {
  it("reads UTM source and medium from the landing site's query, lower-cased", () => {
    expect(marketingSource({ landingSite: "/products/sock?utm_source=Google&utm_medium=CPC&utm_campaign=bf", referringSite: "https://www.google.com/" })).toBe(
      "google / cpc",
    );
    expect(marketingSource({ landingSite: "/collections/socks?utm_source=newsletter" })).toBe("newsletter");
  });

  it("prefers the UTM parameters Shopify parsed (the customer journey) to the landing page's", () => {
    expect(
      marketingSource({ landingSite: "https://shop.example/?utm_source=x", utm: { source: "facebook", medium: "paid_social", campaign: "spring" } }),
    ).toBe("facebook / paid_social");
  });

  it("falls back to the referrer's host, then to direct, then to unknown", () => {
    expect(marketingSource({ landingSite: "/", referringSite: "https://www.instagram.com/p/abc" })).toBe("instagram.com (referral)");
    expect(marketingSource({ referringSite: "android-app://com.google.android.gm" })).toBe("com.google.android.gm (referral)");
    expect(marketingSource({ landingSite: "/products/sock", referringSite: "" })).toBe("direct");
    expect(marketingSource({ landingSite: null, referringSite: null })).toBeNull();
    expect(marketingSource({})).toBeNull();
  });

  it("survives text that is not a URL", () => {
    expect(marketingSource({ landingSite: "%%%?utm_source=%E0%A4%A", referringSite: "not a host at all" })).not.toBeUndefined();
  });
});
