import fc from "fast-check";
import { FIT_USAGE, NOT_CONVERGED_EXIT_CODE, NOT_ENOUGH_DATA_EXIT_CODE, parseNumber, runFit } from "./fit";
import { simulateParetoNbd } from "~/analytics/clv/simulate";
import { memoryIo } from "./io";
import { tempDirForTests } from "./temp-dir.testing";

const SUMMARY = "tests/fixtures/cdnow/cdnow_customers_summary.csv";
const WITH_SPEND = "tests/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv";

const dir = tempDirForTests("tenure-fit-");

let files = 0;
function csvFile(text: string): string {
  return dir.write(`summary-${++files}.csv`, text);
}

async function fit(args: string[]) {
  const io = memoryIo();
  const code = await runFit(args, io);
  const out = io.out();
  return { code, io, json: out.startsWith("{") ? JSON.parse(out) : null, lines: out.split("\n").filter(Boolean).length };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Each published value matched within `tolerance` relative (the name says which one failed). */
function expectRelativelyClose(actual: Record<string, number>, published: Record<string, number>, tolerance = 1e-3) {
  for (const [name, value] of Object.entries(published)) expect(rel(actual[name], value), name).toBeLessThan(tolerance);
}

describe("tenure fit on the CDNOW summary", () => {
  it("prints one JSON object with the three count models at the published optimum", async () => {
    const { code, json, lines, io } = await fit([SUMMARY]);
    expect(code).toBe(0);
    expect(lines).toBe(1);
    expect(Object.keys(json)).toEqual(["n", "bgnbd", "modifiedBgnbd", "paretoNbd"]);
    expect(json.n).toBe(2357);
    expect(io.err()).toContain("2,357 customers, 1,016 distinct (x, t_x, T) rows");

    const { bgnbd, modifiedBgnbd, paretoNbd } = json;
    expect(Object.keys(bgnbd)).toEqual(["r", "alpha", "a", "b", "logLikelihood"]);
    expectRelativelyClose(bgnbd, { r: 0.242593, alpha: 4.413532, a: 0.792886, b: 2.425752 });
    expect(Math.abs(bgnbd.logLikelihood - -9582.43)).toBeLessThan(0.01);

    expect(modifiedBgnbd.r).toBeCloseTo(0.525, 3);
    expect(modifiedBgnbd.alpha).toBeCloseTo(6.183, 3);
    expect(modifiedBgnbd.a).toBeCloseTo(0.891, 3);
    expect(modifiedBgnbd.b).toBeCloseTo(1.614, 3);
    expect(Math.abs(modifiedBgnbd.logLikelihood - -9582.13)).toBeLessThan(0.01);

    expect(Object.keys(paretoNbd)).toEqual(["r", "alpha", "s", "beta", "logLikelihood"]);
    expectRelativelyClose(paretoNbd, { r: 0.5533, alpha: 10.578, s: 0.6062 });
    expectRelativelyClose(paretoNbd, { beta: 11.667 }, 2e-3);
    expect(Math.abs(paretoNbd.logLikelihood - -9594.98)).toBeLessThan(0.01);
  });

  it("reads x,t_x,T,zbar and fits Gamma-Gamma on the rows with x > 0", async () => {
    const { code, json } = await fit([WITH_SPEND]);
    expect(code).toBe(0);
    expect(Object.keys(json)).toEqual(["n", "bgnbd", "modifiedBgnbd", "paretoNbd", "gammaGamma"]);
    expect(json.gammaGamma.p).toBeCloseTo(6.2488, 2);
    expect(json.gammaGamma.q).toBeCloseTo(3.7446, 2);
    expect(json.gammaGamma.gamma).toBeCloseTo(15.4477, 2);
    expect(Math.abs(json.gammaGamma.logLikelihood - -4055.92)).toBeLessThan(0.01);
    expect(Math.abs(json.bgnbd.logLikelihood - -9582.43)).toBeLessThan(0.01);
  });
});

describe("tenure fit input handling", () => {
  // A small valid body: 60 customers, a third of them repeat buyers with varied histories.
  const body = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `${1 + (i % 5)},${(i % 20) + 1},${30 + (i % 9)},${10 + i}` : `0,0,${25 + (i % 11)},0`));

  it("reports bad rows with their line numbers, skips and counts them", async () => {
    const path = csvFile(["frequency,recency,T,monetary_value", ...body.slice(0, 30), "2,40,30,5", "1.5,3,9,4", "x,1,2,3", "0,2,9,0", "1,2", "1,2,3,-4", ...body.slice(30)].join("\n"));
    const { code, json, io } = await fit([path]);
    expect(code).not.toBe(1);
    expect(json.n).toBe(60);
    const err = io.err();
    expect(err).toContain("line 32: T 30 is smaller than recency 40; skipped");
    expect(err).toContain("line 33: frequency 1.5 is not a whole number >= 0; skipped");
    expect(err).toContain("line 34: column 1 (frequency) is missing or not a number; skipped");
    expect(err).toContain("line 35: recency 2 must be 0 when frequency is 0; skipped");
    expect(err).toContain("line 36: 2 fields, expected at least 4: no column 3; skipped");
    expect(err).toContain("line 37: column 4 (monetary value) -4 is negative; skipped");
    expect(err).toContain("skipped 6 bad rows");
  });

  it("--strict stops at the first bad row", async () => {
    const path = csvFile(["frequency,recency,T", "1,2,3", "2,9,4", "0,0,5"].join("\n"));
    const { code, io, json } = await fit([path, "--strict"]);
    expect(code).toBe(1);
    expect(json).toBeNull();
    expect(io.err()).toContain("line 3: T 4 is smaller than recency 9 (--strict: stopped)");
  });

  it("accepts CRLF, a BOM, quotes, spaces, extra columns in any order and blank lines", async () => {
    const plain = csvFile(["frequency,recency,T,monetary_value", ...body].join("\n"));
    const messy = csvFile(
      `\ufeffID,"T",monetary_value,recency,frequency\r\n` +
        body
          .map((line, i) => {
            const [f, r, T, m] = line.split(",");
            return i % 7 === 0 ? `"c${i}","${T}", ${m} ,"${r}",${f}` : `c${i},${T},${m},${r},${f}`;
          })
          .join("\r\n") +
        "\r\n\r\n",
    );
    const a = await fit([plain]);
    const b = await fit([messy]);
    expect(b.code).toBe(a.code);
    expect(b.json).toEqual(a.json);
    expect(b.io.err()).not.toContain("skipped");
  });

  it("explains a missing header, file or argument", async () => {
    const noHeader = await fit([csvFile("a,b,c\n1,2,3\n")]);
    expect(noHeader.code).toBe(1);
    expect(noHeader.io.err()).toContain("the header must name the columns frequency,recency,T (or x,t_x,T); found: a,b,c");
    const missing = await fit([dir.path("nope.csv")]);
    expect(missing.code).toBe(1);
    expect(missing.io.err()).toContain("no such file");
    const empty = await fit([csvFile("")]);
    expect(empty.io.err()).toContain("is empty");
    const noRows = await fit([csvFile("frequency,recency,T\n")]);
    expect(noRows.io.err()).toContain("has no usable rows");
    expect((await fit([])).code).toBe(2);
    expect((await fit(["a.csv", "b.csv"])).code).toBe(2);
    expect((await fit(["--bogus", SUMMARY])).code).toBe(2);
    const help = await fit(["--help"]);
    expect(help.code).toBe(0);
    expect(help.io.out()).toBe(FIT_USAGE);
  });

  it("marks a model that does not converge, exits 3 and still prints the others", async () => {
    // Every repeat buyer buys at the same rate: r -> ∞, a limit no model here names.
    const rows = Array.from({ length: 300 }, (_, i) => (i < 200 ? `4,${36 + (i % 4)},40` : `${1 + (i % 2)},${8 + (i % 4)},40`));
    const { code, json, io } = await fit([csvFile(["frequency,recency,T", ...rows].join("\n"))]);
    expect(code).toBe(NOT_CONVERGED_EXIT_CODE);
    expect(json.bgnbd.converged).toBe(false);
    expect(json.bgnbd.message).toMatch(/r ran to .*every customer the same purchase rate.*no maximum inside it/);
    expect(io.err()).toMatch(/bgnbd did not converge/);
  });

  it("names one drop-out for every customer (a, b -> ∞) as a converged nested model", async () => {
    // Every repeat buyer bought again just now: refused as unconverged before the nested model.
    const rows = Array.from({ length: 300 }, (_, i) => (i < 120 ? `${1 + (i % 4)},${5 + (i % 30)},40` : `0,0,${40 - (i % 10)}`));
    const { code, json } = await fit([csvFile(["frequency,recency,T", ...rows].join("\n"))]);
    expect(code).toBe(0);
    expect(json.bgnbd.converged).toBeUndefined();
    expect(json.bgnbd.boundary).toMatch(/^drop-out the same for every customer \(p = 0\.24\d+\)$/);
    expect(json.bgnbd.nestedLogLikelihood).toBeCloseTo(json.bgnbd.logLikelihood as number, 3);
  });
});

describe("tenure fit on degenerate and near-edge data", () => {
  it("no repeat purchase at all: every count model says not enough data, exit 4 (never 'converged' at its starting values)", async () => {
    const rows = Array.from({ length: 120 }, (_, i) => `0,0,${10 + (i % 30)}`);
    const { code, json, io } = await fit([csvFile(["frequency,recency,T", ...rows].join("\n"))]);
    expect(code).toBe(NOT_ENOUGH_DATA_EXIT_CODE);
    for (const key of ["bgnbd", "modifiedBgnbd", "paretoNbd"] as const) {
      expect(json[key]).toEqual({ converged: false, code: "not-enough-data", message: expect.stringMatching(/^not enough data: no customer made a repeat purchase/) });
    }
    expect(io.err()).toContain("not enough data for bgnbd, modifiedBgnbd, paretoNbd");
  });

  it("names the plain-NBD edge with the nested likelihood, and the JSON is the same for the rows in any order", async () => {
    const customers = simulateParetoNbd({ r: 0.6, alpha: 6, s: 1e-3, beta: 1e3 }, { customers: 600, seed: 7, age: (u) => 20 + Math.floor(u() * 60) });
    const lines = customers.map((c) => `${c.frequency},${c.recency},${c.T}`);
    const forward = await fit([csvFile(["frequency,recency,T", ...lines].join("\n"))]);
    const backward = await fit([csvFile(["frequency,recency,T", ...lines.reverse()].join("\n"))]);
    expect(forward.code).toBe(0);
    expect(forward.json.paretoNbd.boundary).toBe("drop-out not identifiable: behaves like plain NBD");
    expect(forward.json.paretoNbd.nestedLogLikelihood).toBeCloseTo(forward.json.paretoNbd.logLikelihood as number, 3);
    expect(backward.json).toEqual(forward.json);
  });
});

describe("number parsing", () => {
  it("gives exactly what Number() gives", () => {
    const decimal = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 20 }))
      .map(([negative, digits, scale]) => {
        const text = digits.toString().padStart(scale + 1, "0");
        return `${negative ? "-" : ""}${scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`}`;
      });
    fc.assert(
      fc.property(fc.oneof(decimal, fc.double({ noNaN: true, noDefaultInfinity: true }).map(String)), (text) => {
        const buffer = Buffer.from(` ${text} `);
        expect(Object.is(parseNumber(buffer, 0, buffer.length), Number(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects what is not a plain number", () => {
    for (const text of ["", " ", "abc", "0x10", "Infinity", "1,5", "1.2.3", "-", "."]) {
      const buffer = Buffer.from(text);
      expect(parseNumber(buffer, 0, buffer.length)).toBeNaN();
    }
  });
});
