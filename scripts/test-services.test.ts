import { describe, expect, it } from "vitest";
import {
  type InstalledBrowsers,
  SYSTEM_POSTGRES_URLS,
  SYSTEM_REDIS_URL,
  chromiumSources,
  postgresSources,
  redisInstallCommand,
  redisSources,
  testServicesMode,
} from "./test-services";

// The order in which `npm test` looks for its services (README "Tests"), given the
// environment and what is installed: pure, no service is touched.

const linux = (found: Partial<InstalledBrowsers> = {}): InstalledBrowsers => ({ platform: "linux", arch: "x64", system: [], playwright: [], ...found });

describe("testServicesMode", () => {
  it("is auto unless TENURE_TEST_SERVICES says private, and refuses anything else by name", () => {
    expect(testServicesMode({})).toBe("auto");
    expect(testServicesMode({ TENURE_TEST_SERVICES: "" })).toBe("auto");
    expect(testServicesMode({ TENURE_TEST_SERVICES: "private" })).toBe("private");
    expect(() => testServicesMode({ TENURE_TEST_SERVICES: "isolated" })).toThrow(/TENURE_TEST_SERVICES must be "auto".*"private", not "isolated"/);
  });
});

describe("PostgreSQL", () => {
  it("TEST_DATABASE_URL, then the server on 5432, then an embedded one", () => {
    expect(postgresSources({ TEST_DATABASE_URL: "postgresql://u@db/x" }, "auto")).toEqual([{ kind: "given", url: "postgresql://u@db/x" }]);
    expect(postgresSources({}, "auto")).toEqual([{ kind: "system", urls: SYSTEM_POSTGRES_URLS }, { kind: "embedded" }]);
  });

  it("private mode skips 5432 but still honours TEST_DATABASE_URL", () => {
    expect(postgresSources({}, "private")).toEqual([{ kind: "embedded" }]);
    expect(postgresSources({ TEST_DATABASE_URL: "postgresql://u@db/x" }, "private")).toEqual([{ kind: "given", url: "postgresql://u@db/x" }]);
  });
});

describe("Redis", () => {
  it("REDIS_URL, then 6379, then redis-server on a private port, then redis-memory-server", () => {
    expect(redisSources({ REDIS_URL: "redis://r:1" }, "auto", "/usr/bin/redis-server")).toEqual([{ kind: "given", url: "redis://r:1" }]);
    expect(redisSources({}, "auto", "/usr/bin/redis-server")).toEqual([
      { kind: "system", url: SYSTEM_REDIS_URL },
      { kind: "redis-server", binary: "/usr/bin/redis-server" },
      { kind: "redis-memory-server" },
    ]);
    expect(redisSources({}, "auto", undefined)).toEqual([{ kind: "system", url: SYSTEM_REDIS_URL }, { kind: "redis-memory-server" }]);
  });

  it("private mode skips 6379", () => {
    expect(redisSources({}, "private", "/usr/bin/redis-server")).toEqual([{ kind: "redis-server", binary: "/usr/bin/redis-server" }, { kind: "redis-memory-server" }]);
  });

  it("names the install command of the platform", () => {
    expect(redisInstallCommand("linux", 'ID=debian\nVERSION_ID="12"')).toBe("apt-get install -y redis-server");
    expect(redisInstallCommand("linux", 'ID=ubuntu\nID_LIKE=debian')).toBe("apt-get install -y redis-server");
    expect(redisInstallCommand("linux", 'ID="rocky"\nID_LIKE="rhel centos fedora"')).toBe("dnf install -y redis");
    expect(redisInstallCommand("linux", "ID=alpine")).toBe("apk add redis");
    expect(redisInstallCommand("darwin")).toBe("brew install redis");
    expect(redisInstallCommand("linux", "")).toMatch(/package manager.*apt-get install -y redis-server/);
  });
});

describe("Chromium", () => {
  const installed = linux({ system: ["/usr/bin/chromium", "/usr/bin/google-chrome"], playwright: ["/home/u/.cache/ms-playwright/chromium-1200/chrome-linux/chrome"] });

  it("CHROMIUM_PATH, then system browsers, then Playwright's cache, then @sparticuz/chromium", () => {
    expect(chromiumSources({ CHROMIUM_PATH: "/opt/c" }, "auto", installed)).toEqual([{ kind: "given", path: "/opt/c" }]);
    expect(chromiumSources({}, "auto", installed)).toEqual([
      { kind: "system", path: "/usr/bin/chromium" },
      { kind: "system", path: "/usr/bin/google-chrome" },
      { kind: "playwright", path: "/home/u/.cache/ms-playwright/chromium-1200/chrome-linux/chrome" },
      { kind: "sparticuz" },
    ]);
  });

  it("private mode skips system and Playwright-cached browsers", () => {
    expect(chromiumSources({}, "private", installed)).toEqual([{ kind: "sparticuz" }]);
  });

  it("offers @sparticuz/chromium on Linux x64 only", () => {
    expect(chromiumSources({}, "auto", { ...installed, arch: "arm64" }).map((source) => source.kind)).not.toContain("sparticuz");
    expect(chromiumSources({}, "private", { platform: "darwin", arch: "arm64", system: [], playwright: [] })).toEqual([]);
  });
});
