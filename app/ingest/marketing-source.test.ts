import { describe, expect, it } from "vitest";
import { ownHostReferralLabels } from "~/lib/own-hosts";
import { marketingSource, sourceForShop } from "./marketing-source";

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

describe("Shopify's checkout and the shop's own domain", () => {
  it("counts a referrer from Shopify's checkout as direct (the buyer coming back, not a source)", () => {
    expect(marketingSource({ landingSite: "/", referringSite: "https://checkout.shopify.com/12345/checkouts/abc" })).toBe("direct");
    expect(marketingSource({ landingSite: "/", referringSite: "https://shop.app/" })).toBe("direct");
    expect(marketingSource({ landingSite: "/", referringSite: "https://notshop.app/" })).toBe("notshop.app (referral)");
  });

  it("counts a referral from the shop's own domain or a subdomain of it as direct, and nothing else", () => {
    expect(sourceForShop("sock-shop.myshopify.com (referral)", "sock-shop.myshopify.com")).toBe("direct");
    expect(sourceForShop("blog.sock-shop.myshopify.com (referral)", "sock-shop.myshopify.com")).toBe("direct");
    expect(sourceForShop("other-shop.myshopify.com (referral)", "sock-shop.myshopify.com")).toBe("other-shop.myshopify.com (referral)");
    expect(sourceForShop("newsletter", "sock-shop.myshopify.com")).toBe("newsletter");
    expect(sourceForShop(null, "sock-shop.myshopify.com")).toBeNull();
  });

  it("counts a referral from one of the shop's own custom domains (primary or other, www. or not) as direct", () => {
    const hosts = ["www.sockshop.example", "Socks.Example.co.uk."];
    const source = (referrer: string) => sourceForShop(marketingSource({ landingSite: "/", referringSite: referrer }), "sock-shop.myshopify.com", hosts);
    expect(source("https://www.sockshop.example/collections/all")).toBe("direct");
    expect(source("https://sockshop.example/")).toBe("direct");
    expect(source("https://socks.example.co.uk/products/sock")).toBe("direct");
    // Only the shop's own hosts: a look-alike, a parent or another subdomain of a custom domain is another site.
    expect(source("https://notsockshop.example/")).toBe("notsockshop.example (referral)");
    expect(source("https://blog.sockshop.example/")).toBe("blog.sockshop.example (referral)");
    expect(source("https://example.co.uk/")).toBe("example.co.uk (referral)");
    // Without the hosts (before the shop's authentication read them) the custom domain is a referral.
    expect(sourceForShop("sockshop.example (referral)", "sock-shop.myshopify.com")).toBe("sockshop.example (referral)");
    // UTM parameters still win over the referrer.
    expect(sourceForShop(marketingSource({ landingSite: "/?utm_source=mail", referringSite: "https://sockshop.example/" }), "sock-shop.myshopify.com", hosts)).toBe("mail");
  });

  it("names the labels stored for the shop's own hosts (what the install relabels), ignoring what is not a host", () => {
    expect(ownHostReferralLabels(["www.sockshop.example", "sockshop.example", " SOCKS.example.co.uk ", "", "not a host"])).toEqual([
      "sockshop.example (referral)",
      "socks.example.co.uk (referral)",
    ]);
  });
});
