import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encryptionKeys, parseEnv } from "~/env.server";
import { SecretError, keyIdOf, openSecret, sealSecret, sealedKeyId } from "./secrets.server";

// Destination API keys at rest: AES-256-GCM, v1:<key id>:<iv>:<tag>:<ciphertext>.

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const context = "destination:a.myshopify.com:klaviyo";

describe("sealed destination keys", () => {
  it("opens what it sealed, in the documented format, never showing the key", () => {
    const sealed = sealSecret("pk_live_secret", context, { current: keyA, retired: [] });
    expect(sealed).toMatch(/^v1:[0-9a-f]{8}:[\w-]+:[\w-]+:[\w-]+$/);
    expect(sealed).not.toContain("pk_live_secret");
    expect(sealedKeyId(sealed)).toBe(keyIdOf(keyA));
    expect(openSecret(sealed, context, { current: keyA, retired: [] })).toEqual({ plaintext: "pk_live_secret", needsReseal: false });
  });

  it("refuses a tampered secret with a clear error", () => {
    const sealed = sealSecret("pk_live_secret", context, { current: keyA, retired: [] });
    const parts = sealed.split(":");
    const ciphertext = Buffer.from(parts[4]!, "base64url");
    ciphertext[0] = ciphertext[0]! ^ 1;
    const tampered = [...parts.slice(0, 4), ciphertext.toString("base64url")].join(":");
    expect(() => openSecret(tampered, context, { current: keyA, retired: [] })).toThrow(/failed its integrity check/);
    expect(() => openSecret("not sealed", context, { current: keyA, retired: [] })).toThrow(SecretError);
  });

  it("refuses a secret copied onto another destination", () => {
    const sealed = sealSecret("pk_live_secret", context, { current: keyA, retired: [] });
    expect(() => openSecret(sealed, "destination:b.myshopify.com:klaviyo", { current: keyA, retired: [] })).toThrow(/another destination/);
  });

  it("names the key it needs when the configured keys do not include it", () => {
    const sealed = sealSecret("pk_live_secret", context, { current: keyA, retired: [] });
    expect(() => openSecret(sealed, context, { current: keyB, retired: [] })).toThrow(
      new RegExp(`sealed with key ${keyIdOf(keyA)}.*TENURE_ENCRYPTION_KEYS_RETIRED`),
    );
  });

  it("opens a secret sealed under a retired key and asks for a re-seal", () => {
    const sealed = sealSecret("pk_live_secret", context, { current: keyA, retired: [] });
    const opened = openSecret(sealed, context, { current: keyB, retired: [keyA] });
    expect(opened).toEqual({ plaintext: "pk_live_secret", needsReseal: true });
    const resealed = sealSecret(opened.plaintext, context, { current: keyB, retired: [keyA] });
    expect(sealedKeyId(resealed)).toBe(keyIdOf(keyB));
  });

  it("says which variable is missing when no key is configured", () => {
    expect(() => sealSecret("x", context, { current: null, retired: [] })).toThrow(/TENURE_ENCRYPTION_KEY is not set/);
  });
});

describe("encryption keys from the environment", () => {
  it("reads base64, base64url and hex keys of 32 bytes", () => {
    const hex = keyA.toString("hex");
    expect(encryptionKeys({ TENURE_ENCRYPTION_KEY: keyA.toString("base64") }).current).toEqual(keyA);
    expect(encryptionKeys({ TENURE_ENCRYPTION_KEY: keyA.toString("base64url") }).current).toEqual(keyA);
    expect(encryptionKeys({ TENURE_ENCRYPTION_KEY: hex, TENURE_ENCRYPTION_KEYS_RETIRED: ` ${keyB.toString("base64")} ,` }).retired).toEqual([keyB]);
    expect(encryptionKeys({}).current).toBeNull();
  });

  it("refuses a key of the wrong size, naming the variable", () => {
    expect(() => encryptionKeys({ TENURE_ENCRYPTION_KEY: randomBytes(16).toString("base64") })).toThrow(/TENURE_ENCRYPTION_KEY must be 32 bytes/);
    expect(() => encryptionKeys({ TENURE_ENCRYPTION_KEY: keyA.toString("hex"), TENURE_ENCRYPTION_KEYS_RETIRED: "short" })).toThrow(
      /TENURE_ENCRYPTION_KEYS_RETIRED: key 1/,
    );
  });
});

describe("the validated environment", () => {
  const production = {
    NODE_ENV: "production",
    DATABASE_URL: "postgresql://localhost/tenure",
    REDIS_URL: "redis://localhost:6379",
    SHOPIFY_API_KEY: "key",
    SHOPIFY_API_SECRET: "secret",
    SHOPIFY_APP_URL: "https://tenure.example",
  };

  it("requires TENURE_ENCRYPTION_KEY in production only, and checks its size everywhere", () => {
    expect(() => parseEnv(production)).toThrow(/TENURE_ENCRYPTION_KEY is missing/);
    expect(parseEnv({ ...production, TENURE_ENCRYPTION_KEY: keyA.toString("base64") }).TENURE_ENCRYPTION_KEY).toBe(keyA.toString("base64"));
    expect(parseEnv({ ...production, NODE_ENV: "development" }).TENURE_ENCRYPTION_KEY).toBeUndefined();
    expect(() => parseEnv({ ...production, NODE_ENV: "development", TENURE_ENCRYPTION_KEY: "too-short" })).toThrow(/TENURE_ENCRYPTION_KEY must be 32 bytes/);
  });

  it("defaults Klaviyo's API to the real host", () => {
    expect(parseEnv({ ...production, NODE_ENV: "development" }).KLAVIYO_API_URL).toBe("https://a.klaviyo.com");
  });
});
