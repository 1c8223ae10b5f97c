#!/usr/bin/env node
// `tenure` command shim: runs app/cli/main.ts with tsx from this package, forwarding the
// arguments, standard streams, signals and exit code.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(packageDir, "package.json"));
// Resolved from the package so that `tenure` works from any directory.
const tsx = pathToFileURL(require.resolve("tsx")).href;
const entry = join(packageDir, "app", "cli", "main.ts");

const child = spawn(process.execPath, [...process.execArgv, "--import", tsx, entry, ...process.argv.slice(2)], {
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
  }
  else process.exit(code ?? 1);
});
