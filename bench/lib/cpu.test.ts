import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { treeCpu } from "./cpu";

describe("treeCpu", () => {
  it("keeps the CPU of a child that has exited (PostgreSQL's backends and parallel workers come and go)", () => {
    const read = treeCpu(process.pid);
    const before = read();
    // A child that spins for ~0.4 s of CPU, then exits and is reaped.
    execFileSync(process.execPath, ["-e", "const end = Date.now() + 400; while (Date.now() < end);"]);
    expect(read() - before).toBeGreaterThanOrEqual(0.25);
  });
});
