import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { treeCpu } from "./cpu";

describe("treeCpu", () => {
  it("keeps the CPU of a child that has exited (PostgreSQL's backends and parallel workers come and go)", () => {
    const read = treeCpu(process.pid);
    const before = read();
    // A child that spins until it has used 0.4 s of CPU (not of wall time: on a busy machine
    // a wall-clock spin gets less CPU), then exits and is reaped.
    execFileSync(process.execPath, ["-e", "while (process.cpuUsage().user < 400_000);"]);
    expect(read() - before).toBeGreaterThanOrEqual(0.25);
  });
});
