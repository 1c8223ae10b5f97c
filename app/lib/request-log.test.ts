import { describe, expect, it } from "vitest";
import { redactedRequestUrl } from "./request-log";

// The access log never holds a session token or a signature (issue 12, finding 7).
describe("redactedRequestUrl", () => {
  it("blanks the values of Shopify's credentials and keeps everything else", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJkZXN0IjoiaHR0cHM6Ly9hLm15c2hvcGlmeS5jb20ifQ.c2lnbmF0dXJl";
    expect(redactedRequestUrl(`/app?embedded=1&hmac=abc123&host=YWRtaW4&id_token=${jwt}&locale=en&session=s3cr3t&shop=a.myshopify.com&timestamp=1`)).toBe(
      "/app?embedded=1&hmac=[redacted]&host=[redacted]&id_token=[redacted]&locale=en&session=[redacted]&shop=a.myshopify.com&timestamp=1",
    );
    expect(redactedRequestUrl("/auth/callback?code=oauth-code&state=nonce&shop=a.myshopify.com")).toBe(
      "/auth/callback?code=[redacted]&state=[redacted]&shop=a.myshopify.com",
    );
  });

  it("matches encoded and upper-case names, and leaves a path without a query alone", () => {
    expect(redactedRequestUrl("/app?ID_TOKEN=x&id%5Ftoken=y")).toBe("/app?ID_TOKEN=[redacted]&id%5Ftoken=[redacted]");
    expect(redactedRequestUrl("/app/customers")).toBe("/app/customers");
    expect(redactedRequestUrl("/app?%E0%A4%A=1&flag")).toBe("/app?%E0%A4%A=1&flag");
  });
});
