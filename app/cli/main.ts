// The `tenure` command: dispatches to its subcommands. bin/tenure.js runs the build of
// this file (dist/cli/main.js), or this file under tsx when there is no current build;
// tests call main() in-process.
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { runAnalyze } from "./analyze";
import { runFit } from "./fit";
import { type CliIo, USAGE_EXIT_CODE, processIo } from "./io";

export const USAGE = `Usage: tenure <command> [options]

Commands:
  analyze <transactions> --out <dir>   per-customer CLV, churn odds, RFM segments and retention
                                       from a transactions file (CSV, CDNOW or Shopify export)
  fit <summary.csv>                    fit BG/NBD, modified BG/NBD, Pareto/NBD and Gamma-Gamma
                                       to a customer summary file; prints JSON

Run "tenure <command> --help" for a command's options. Docs: docs/analytics/cli.md
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  analyze: runAnalyze,
  fit: runFit,
};

/** Runs `tenure <argv>`; resolves with the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? USAGE_EXIT_CODE : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr.write(`tenure: unknown command "${command}"\n\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  return run(rest, io);
}

/** The process side of main(): exit code and unexpected errors (bin/tenure.js calls this). */
export async function runCommandLine(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    process.stderr.write(`tenure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void runCommandLine(process.argv.slice(2));
}
