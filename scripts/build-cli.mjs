// Builds the `tenure` command into dist/cli: app/cli/main.ts and its threads (scoring,
// read, fit: ENTRY_POINTS), each bundled with its dependencies into one plain ES module, so that the command
// starts without compiling TypeScript (bin/tenure.js; docs/analytics/cli.md, "Build").
// Plain JavaScript on purpose: it runs as the package's prepare step under any Node,
// before anything else is set up.
//
//   node scripts/build-cli.mjs [--outdir dir]
//
// esbuild is the one tsx (a dependency) ships with, so the build adds no dependency.
// Next to the bundles it writes build-inputs.json, the source files they were built
// from, which bin/tenure.js compares with the bundle's time to notice a stale build.
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRY_POINTS = ["app/cli/main.ts", "app/cli/scoring-thread.ts", "app/cli/read-thread.ts", "app/cli/fit-thread.ts"];
export const INPUTS_FILE = "build-inputs.json";

/** Bundles the CLI into `outdir` (default dist/cli); returns the source files it read. */
export async function buildCli(outdir = join(root, "dist", "cli")) {
  const tsxRequire = createRequire(createRequire(join(root, "package.json")).resolve("tsx/package.json"));
  const esbuild = await import(pathToFileURL(tsxRequire.resolve("esbuild")).href);
  // Built beside the target and renamed into place, so that a `tenure` started meanwhile
  // sees the old build or the new one, never half of one.
  const staging = `${outdir}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ENTRY_POINTS,
      outbase: "app/cli",
      outdir: staging,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      tsconfig: join(root, "tsconfig.json"),
      metafile: true,
      logLevel: "warning",
      // Bundled CommonJS dependencies may call require(); an ES module has none of its own.
      banner: { js: 'import { createRequire as __tenureCreateRequire } from "node:module"; const require = __tenureCreateRequire(import.meta.url);' },
    });
    const inputs = Object.keys(result.metafile.inputs)
      .filter((path) => !path.includes("node_modules/"))
      .map((path) => relative(root, resolve(root, path)))
      .sort();
    await writeFile(join(staging, INPUTS_FILE), JSON.stringify({ inputs }, null, 1) + "\n");
    await rm(outdir, { recursive: true, force: true });
    await rename(staging, outdir);
    return inputs;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: "string" } } });
  const started = performance.now();
  const outdir = values.outdir ? resolve(values.outdir) : undefined;
  const inputs = await buildCli(outdir);
  const where = relative(process.cwd(), outdir ?? join(root, "dist", "cli")) || ".";
  process.stderr.write(`tenure: built ${where} from ${inputs.length} source files (${Math.round(performance.now() - started)} ms)\n`);
}
