import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { resolveChromium, serviceLine } from "../../scripts/test-services";
import { ARTIFACTS_DIR, type ChromiumChoice } from "./browser";

declare module "vitest" {
  export interface ProvidedContext {
    /** The production build the browser tests' servers run, relative to the project root. */
    browserBuildDir: string;
    /** The run's Chromium (given, found or unpacked: scripts/test-services.ts). */
    chromium: ChromiumChoice;
  }
}

const root = fileURLToPath(new URL("../../", import.meta.url));

// One production build (`remix vite:build`) per run, shared by every browser test file.
// Inside node_modules so the server bundle resolves its dependencies, and linters skip it.
export default async function browserSetup(project: TestProject) {
  const chromium = await resolveChromium();
  console.log(serviceLine("Chromium", chromium.executablePath, chromium.description));
  project.provide("chromium", chromium);
  const buildDir = `node_modules/.cache/tenure-browser-${process.pid}`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["node_modules/@remix-run/dev/dist/cli.js", "vite:build"], {
      cwd: root,
      env: { ...process.env, NODE_ENV: "production", TENURE_BUILD_DIR: buildDir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let errors = "";
    child.stderr.on("data", (chunk) => (errors += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`remix vite:build exited ${code}\n${errors}`))));
  });
  project.provide("browserBuildDir", buildDir);
  console.log(`browser tests: screenshots in ${ARTIFACTS_DIR}`);
  return () => {
    rmSync(`${root}${buildDir}`, { recursive: true, force: true });
  };
}
