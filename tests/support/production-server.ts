import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { closedPort } from "./ports";

// The production server as `npm start` runs it: `remix vite:build` into a scratch folder,
// then server.mjs on that build, on a free port, against this worker's PostgreSQL and Redis.

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface RunningServer {
  baseUrl: string;
  child: ChildProcess;
  /** Its stdout so far (the access log). */
  stdout(): string;
}

export interface ProductionBuild {
  /** The build folder, relative to the repository root. */
  dir: string;
  /** Starts server.mjs on the build with this environment; resolves once it answers. */
  serve(environment: Record<string, string>): Promise<RunningServer>;
  /** Spawns server.mjs on the build without waiting for it (a server that must not start). */
  spawn(environment: Record<string, string>): ChildProcess;
  /** Stops every server it started and removes the build. */
  close(): void;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
    let errors = "";
    child.stderr.on("data", (chunk) => (errors += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}\n${errors}`))));
  });
}

/** Builds the app for production into a folder of its own (`label` names it). */
export async function productionBuild(label: string): Promise<ProductionBuild> {
  // Inside node_modules so the server bundle resolves its dependencies, and linters skip it.
  const dir = `node_modules/.cache/tenure-${label}-${process.pid}`;
  await run(process.execPath, ["node_modules/@remix-run/dev/dist/cli.js", "vite:build"], {
    ...process.env,
    NODE_ENV: "production",
    TENURE_BUILD_DIR: dir,
  });
  const children: ChildProcess[] = [];

  const spawnServer = (environment: Record<string, string>): ChildProcess => {
    const child = spawn(process.execPath, ["server.mjs", `${dir}/server/index.js`], {
      cwd: root,
      env: { ...process.env, NODE_ENV: "test", ...environment },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    return child;
  };

  return {
    dir,
    spawn: spawnServer,
    async serve(environment) {
      const port = await closedPort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const child = spawnServer({ PORT: String(port), SHOPIFY_APP_URL: baseUrl, ...environment });
      let errors = "";
      let output = "";
      child.stderr?.on("data", (chunk) => (errors += chunk));
      child.stdout?.on("data", (chunk) => (output += chunk));
      // Up to a minute: a loaded machine (CI, a parallel test file building) starts it slowly.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        if (child.exitCode !== null) throw new Error(`server.mjs exited ${child.exitCode}\n${errors}`);
        const up = await fetch(`${baseUrl}/`, { redirect: "manual" }).then(
          () => true,
          () => false,
        );
        if (up) return { baseUrl, child, stdout: () => output };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`server.mjs did not answer on ${baseUrl}\n${errors}`);
    },
    close() {
      for (const child of children) child.kill("SIGTERM");
      rmSync(`${root}${dir}`, { recursive: true, force: true });
    },
  };
}
