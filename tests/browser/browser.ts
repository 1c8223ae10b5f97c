import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { freePort } from "../../scripts/local-services";
import { type ChromiumChoice, resolveChromium } from "../../scripts/test-services";

// Chromium driven by playwright-core, and the production server (server.mjs, what
// `npm start` runs) in demo mode. Shared by the browser tests and bench/web-vitals.bench.ts.

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Where a run keeps its screenshots (git-ignored). */
export const ARTIFACTS_DIR = path.join(PROJECT_ROOT, "tests", "browser", "artifacts");

export type { ChromiumChoice };

/**
 * Headless Chromium with nothing running in the background that could touch the network
 * or skew timings. playwright's launch() gives every browser a fresh temporary profile
 * (its own --user-data-dir), removed on close. `choice`: the run's Chromium
 * (tests/browser/global-setup.ts); without it, found here (scripts/test-services.ts).
 */
export async function launchChromium(choice?: ChromiumChoice): Promise<Browser> {
  const { executablePath, env } = choice ?? (await resolveChromium());
  return chromium.launch({
    executablePath,
    env: env ? { ...process.env, ...env } : undefined,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface DemoServer {
  url: string;
  /** What the server wrote to stderr so far (for failure messages). */
  errors(): string;
  stop(): Promise<void>;
}

/**
 * server.mjs on a production build (`<buildDir>/server/index.js`) in demo mode for `shop`,
 * on a free port; resolves once it answers. NODE_ENV stays "test": demo mode is refused in
 * production, and the build is a production build either way.
 */
export async function startDemoServer(options: { buildDir: string; shop: string; env?: Record<string, string | undefined> }): Promise<DemoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ["server.mjs", path.join(options.buildDir, "server", "index.js")], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      NODE_ENV: "test",
      PORT: String(port),
      HOST: "127.0.0.1",
      SHOPIFY_API_KEY: process.env.SHOPIFY_API_KEY ?? "demo",
      SHOPIFY_API_SECRET: process.env.SHOPIFY_API_SECRET ?? "demo-secret",
      SHOPIFY_APP_URL: url,
      TENURE_DEMO_MODE: "true",
      TENURE_DEMO_SHOP: options.shop,
      ...options.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  child.stderr?.on("data", (chunk) => (errors += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`server.mjs exited ${child.exitCode}\n${errors}`);
    const up = await fetch(`${url}/`, { redirect: "manual" }).then(
      () => true,
      () => false,
    );
    if (up) return { url, errors: () => errors, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`server.mjs did not answer on ${url}\n${errors}`);
}

/**
 * Requests to other hosts (Polaris loads the Inter font from cdn.shopify.com) are answered
 * with an empty 200 here: runs are offline and hermetic, and timings do not depend on a CDN.
 */
export async function isolateFromInternet(context: BrowserContext): Promise<void> {
  await context.route(
    (url) => url.hostname !== "127.0.0.1" && url.hostname !== "localhost",
    (route) => route.fulfill({ status: 200, contentType: route.request().resourceType() === "stylesheet" ? "text/css" : "text/plain", body: "" }),
  );
}

/** Something a page should never do: log an error, throw, or have a request fail. */
export interface PageProblem {
  kind: "console" | "pageerror" | "requestfailed" | "http";
  text: string;
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Problems since the page opened (or since the last clearProblems()). */
  problems: PageProblem[];
  clearProblems(): void;
  close(): Promise<void>;
}

/**
 * A page in its own context (fresh cookies and cache) that records every problem it meets.
 * The context asks for reduced motion, so polaris-viz draws each chart's final frame at once:
 * screenshots and DOM reads never catch a chart half-drawn (issue 13).
 */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
  await isolateFromInternet(context);
  const page = await context.newPage();
  const problems: PageProblem[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) problems.push({ kind: "console", text: `${message.text()} (${message.location().url})` });
  });
  page.on("pageerror", (error) => problems.push({ kind: "pageerror", text: error.stack ?? error.message }));
  page.on("requestfailed", (request) => {
    // A navigation cancels the previous page's pending requests: not a failure of the app.
    if (request.failure()?.errorText === "net::ERR_ABORTED") return;
    problems.push({ kind: "requestfailed", text: `${request.method()} ${request.url()}: ${request.failure()?.errorText}` });
  });
  page.on("response", (response) => {
    // The browser asks for /favicon.ico by itself; inside Shopify admin the admin's icon shows.
    if (new URL(response.url()).pathname === "/favicon.ico") return;
    if (response.status() >= 400) problems.push({ kind: "http", text: `${response.status()} ${response.request().method()} ${response.url()}` });
  });
  return {
    context,
    page,
    problems,
    clearProblems: () => problems.splice(0, problems.length),
    close: () => context.close(),
  };
}

/** Writes a full-page PNG to ARTIFACTS_DIR/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  return file;
}
