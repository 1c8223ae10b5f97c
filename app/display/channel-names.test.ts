import { describe, expect, it } from "vitest";
import { channelName } from "./channel-names";

describe("channelName", () => {
  it("names Shopify's own channels as Shopify admin does", () => {
    expect(channelName("web")).toBe("Online Store");
    expect(channelName("pos")).toBe("Point of Sale");
    expect(channelName("shopify_draft_order")).toBe("Draft orders");
    expect(channelName("iphone")).toBe("Shopify mobile app");
    expect(channelName("android")).toBe("Shopify mobile app");
  });

  it("names a known app, and an unknown app id as an app with its id", () => {
    expect(channelName("3041525761")).toBe("Ankorstore");
    expect(channelName("2329312")).toBe("Other app (2329312)");
  });

  it("shows other text as it is, and says when there is no channel", () => {
    expect(channelName("wholesale-portal")).toBe("wholesale-portal");
    expect(channelName(null)).toBe("No channel recorded");
    expect(channelName("  ")).toBe("No channel recorded");
  });
});
