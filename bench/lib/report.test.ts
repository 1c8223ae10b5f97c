import { formatTable, machineInfo, percentile } from "./report";

describe("percentile", () => {
  it("takes the nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("formatTable", () => {
  it("prints one row per metric, target and verdict on the case's first row", () => {
    const table = formatTable([
      { benchmark: "intake", result: { name: "c=32", metrics: { "deliveries/s": 1234.5, "p99 ms": 12 }, target: "fast", pass: true } },
      { benchmark: "intake", result: { name: "burst", metrics: { lost: 0 }, pass: false } },
    ]);
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^benchmark\s+case\s+metric\s+value\s+target\s+result$/);
    expect(lines[2]).toMatch(/^intake\s+c=32\s+deliveries\/s\s+1,234\.5\s+fast\s+PASS$/);
    expect(lines[3]).toMatch(/^\s+p99 ms\s+12$/);
    expect(lines[4]).toMatch(/burst\s+lost\s+0\s+MISS$/);
  });
});

describe("machineInfo", () => {
  it("describes the machine", () => {
    const info = machineInfo();
    expect(info.cpus).toBeGreaterThan(0);
    expect(info.memoryGiB).toBeGreaterThan(0);
    expect(info.node).toBe(process.version);
  });
});
