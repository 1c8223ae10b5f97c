import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { findRedisServer } from "../../scripts/local-services";
import { thisPlatformsRedisInstallCommand } from "../../scripts/test-services";
import { freePort } from "./ports";

// A redis-server of the test's own, so a test can take Redis down and bring it back
// without touching the shared instance other tests use. No persistence: a restart comes
// back empty, as a crashed cache would.

export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(redisServerBinary(), ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
  }

  /** Stops the server abruptly (SIGKILL): to its clients Redis is simply gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
}

/** redis-server found as the test run finds it (scripts/local-services.ts), or a clear error. */
function redisServerBinary(): string {
  const binary = findRedisServer();
  if (!binary) throw new Error(`this test starts a redis-server of its own and none is installed: ${thisPlatformsRedisInstallCommand()}`);
  return binary;
}
