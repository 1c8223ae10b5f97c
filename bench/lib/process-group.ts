import { type ChildProcess } from "node:child_process";

/**
 * Stops a child spawned with `detached: true` and everything it started (a supervisor and its
 * worker, tsx and its node): SIGTERM to the process group, SIGKILL after 20 s, resolved once
 * the child has exited. Create it right after spawning, so an early exit is not missed.
 */
export function processGroupStopper(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, "SIGTERM");
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };
}
