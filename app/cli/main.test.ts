import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  it("runs the CLI through tsx from any directory and passes the exit code through", () => {
    const ok = spawnSync(process.execPath, ["bin/tenure.js", "analyze", "--help"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(ANALYZE_USAGE);
    const bad = spawnSync(process.execPath, [`${process.cwd()}/bin/tenure.js`, "analyze", "x.csv", "--out", "o", "--unit", "year"], { encoding: "utf8", cwd: "/" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--unit must be one of day, week, month");
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
