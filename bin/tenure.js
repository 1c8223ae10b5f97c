#!/usr/bin/env node
// `tenure` command: runs the compiled CLI (dist/cli/main.js, built by `npm run build:cli`,
// which the package's prepare step runs on `npm install` and before `npm pack`) in this
// process; its threads (dist/cli/scoring-thread.js, read-thread.js, fit-thread.js) are
// bundled beside it and their sources listed in build-inputs.json, so a change to any
// of them counts as a stale build too (scripts/build-cli.mjs ENTRY_POINTS, ADR 0019). In a checkout whose build is missing or older than any source it was built from, it says
// so and runs the sources under tsx in a child process instead (docs/analytics/cli.md).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(packageDir, "dist", "cli", "main.js");
const args = process.argv.slice(2);

const problem = buildProblem();
if (problem === null) {
  const { runCommandLine } = await import(pathToFileURL(built).href);
  await runCommandLine(args);
} else {
  const tsx = resolveTsx();
  if (tsx === null) {
    // Neither way to run: say what to do instead of tsx's resolution stack trace.
    process.stderr.write(`tenure: ${problem}, and tsx (to run the sources) is not installed: run npm install, or npm run build:cli\n`);
    process.exit(1);
  }
  process.stderr.write(`tenure: ${problem}; running app/cli from source with tsx (npm run build:cli builds it)\n`);
  runFromSource(tsx);
}

/** Why dist/cli cannot be used, or null when it is current. */
function buildProblem() {
  let builtAt;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    return "dist/cli is not built";
  }
  // An installed package ships the build alone; only a checkout can be ahead of it.
  if (!existsSync(join(packageDir, "app", "cli", "main.ts"))) return null;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(packageDir, "dist", "cli", "build-inputs.json"), "utf8")).inputs;
  } catch {
    return "dist/cli has no build-inputs.json";
  }
  for (const input of inputs) {
    let changedAt;
    try {
      changedAt = statSync(join(packageDir, input)).mtimeMs;
    } catch {
      return `${input} (built into dist/cli) is gone`;
    }
    if (changedAt > builtAt) return `${input} changed after dist/cli was built`;
  }
  return null;
}

/** tsx's file URL, resolved from the package so that `tenure` works from any directory; null when not installed. */
function resolveTsx() {
  try {
    return pathToFileURL(createRequire(join(packageDir, "package.json")).resolve("tsx")).href;
  } catch {
    return null;
  }
}

/** Runs app/cli/main.ts under tsx, forwarding arguments, standard streams, signals and exit code. */
function runFromSource(tsx) {
  const entry = join(packageDir, "app", "cli", "main.ts");
  const child = spawn(process.execPath, [...process.execArgv, "--import", tsx, entry, ...args], {
    stdio: "inherit",
    env: { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? join(packageDir, "tsconfig.json") },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    process.stderr.write(`tenure: could not start node: ${error.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal, without our forwarding handler in the way.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
