import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { WORKER_NODE_FLAGS } from "../../app/worker/node-flags";
import { PROJECT_ROOT } from "../../scripts/local-services";
import { processGroupStopper } from "./process-group";

const LOG_DIR = path.join(PROJECT_ROOT, ".demo", "logs");

/**
 * `npm run worker`'s process (tsx app/worker/main.ts) in its own process group, logging to
 * .demo/logs/<logName>.log; resolves once it logs that it started.
 */
export async function startWorkerProcess(env: NodeJS.ProcessEnv, logName: string): Promise<{ process: ChildProcess; stop: () => Promise<void> }> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${logName}.log`);
  const out = openSync(logFile, "w");
  const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const child = spawn(process.execPath, [tsx, ...WORKER_NODE_FLAGS, "app/worker/main.ts"], { cwd: PROJECT_ROOT, env, stdio: ["ignore", out, out], detached: true });
  const stop = processGroupStopper(child);
  const deadline = Date.now() + 60_000;
  while (!readFileSync(logFile, "utf8").includes('"worker started"')) {
    if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}); see ${logFile}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the worker did not start within 60 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { process: child, stop };
}

/** Polls `probe` every 250 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
