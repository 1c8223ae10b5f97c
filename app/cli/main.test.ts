import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCli } from "../../scripts/build-cli.mjs";
import { ANALYZE_USAGE } from "./analyze";
import { memoryIo } from "./io";
import { USAGE, main } from "./main";

describe("tenure", () => {
  it("prints its usage on --help and with no command (exit 0 and 2)", async () => {
    const help = memoryIo();
    expect(await main(["--help"], help)).toBe(0);
    expect(help.out()).toBe(USAGE);
    const none = memoryIo();
    expect(await main([], none)).toBe(2);
    expect(none.err()).toBe(USAGE);
  });

  it("rejects an unknown command", async () => {
    const io = memoryIo();
    expect(await main(["fitt"], io)).toBe(2);
    expect(io.err()).toContain('unknown command "fitt"');
  });

  it("dispatches to analyze and fit", async () => {
    const analyze = memoryIo();
    expect(await main(["analyze", "--help"], analyze)).toBe(0);
    expect(analyze.out()).toBe(ANALYZE_USAGE);
    const fit = memoryIo();
    expect(await main(["fit", "--help"], fit)).toBe(0);
    expect(fit.out()).toMatch(/^Usage: tenure fit/);
  });
});

describe("bin/tenure.js", () => {
  it("runs the CLI from any directory and passes the exit code through", () => {
    const ok = spawnSync(process.execPath, ["bin/tenure.js", "analyze", "--help"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(ANALYZE_USAGE);
    const bad = spawnSync(process.execPath, [`${process.cwd()}/bin/tenure.js`, "analyze", "x.csv", "--out", "o", "--unit", "year"], { encoding: "utf8", cwd: "/" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--unit must be one of day, week, month");
  });

  it("runs the build alone in an installed package (no sources, no tsx), scoring threads included", async () => {
    // The layout `npm pack` ships (package.json "files"): bin/ and dist/cli/ only.
    const pkg = mkdtempSync(join(tmpdir(), "tenure-installed-"));
    try {
      mkdirSync(join(pkg, "bin"));
      copyFileSync("bin/tenure.js", join(pkg, "bin", "tenure.js"));
      writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "tenure", type: "module" }));
      await buildCli(join(pkg, "dist", "cli"));
      const help = spawnSync(process.execPath, [join(pkg, "bin", "tenure.js"), "--help"], { encoding: "utf8", cwd: pkg });
      expect(help.stderr).toBe("");
      expect(help.stdout).toBe(USAGE);
      const out = join(pkg, "out");
      const sample = join(process.cwd(), "tests/fixtures/cdnow/CDNOW_sample.txt");
      const run = spawnSync(process.execPath, [join(pkg, "bin", "tenure.js"), "analyze", sample, "--as-of", "1997-09-30", "--threads", "2", "--out", out], { encoding: "utf8", cwd: pkg });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toBe(`tenure analyze: 2,357 customers -> ${out}/customers.csv, ${out}/summary.json, ${out}/model.json\n`);
      expect(readFileSync(join(out, "customers.csv"), "utf8").split("\n")).toHaveLength(2359);
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});

describe("bin/tenure.js without a build", () => {
  it("says to build or install, without a stack trace, when neither dist/cli nor tsx is there", () => {
    const checkout = mkdtempSync(join(tmpdir(), "tenure-unbuilt-"));
    try {
      mkdirSync(join(checkout, "bin"));
      mkdirSync(join(checkout, "app", "cli"), { recursive: true });
      copyFileSync("bin/tenure.js", join(checkout, "bin", "tenure.js"));
      writeFileSync(join(checkout, "app", "cli", "main.ts"), "");
      writeFileSync(join(checkout, "package.json"), JSON.stringify({ name: "tenure", type: "module" }));
      const run = spawnSync(process.execPath, [join(checkout, "bin", "tenure.js"), "--help"], { encoding: "utf8", cwd: checkout });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("tenure: dist/cli is not built, and tsx (to run the sources) is not installed: run npm install, or npm run build:cli");
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });
});

describe("tenure analyze --threads", () => {
  it("writes the same files with scoring workers as in one thread", () => {
    const dir = mkdtempSync(join(tmpdir(), "tenure-threads-"));
    try {
      const run = (threads: string) => {
        const out = join(dir, `t${threads}`);
        const result = spawnSync(process.execPath, ["bin/tenure.js", "analyze", "tests/fixtures/cdnow/CDNOW_sample.txt", "--as-of", "1997-09-30", "--threads", threads, "--out", out], { encoding: "utf8" });
        expect(result.status, result.stderr).toBe(0);
        const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
        return { csv: readFileSync(join(out, "customers.csv"), "utf8"), segments: summary.rfm.segments };
      };
      const single = run("1");
      const threaded = run("3");
      expect(threaded.csv.split("\n")).toHaveLength(2359);
      expect(threaded.csv).toBe(single.csv);
      expect(threaded.segments).toEqual(single.segments);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
