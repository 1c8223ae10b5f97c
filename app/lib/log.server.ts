// The workers' log: one JSON object per line on stdout/stderr, easy to grep and ship.

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  return JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }, (_key, value) =>
    typeof value === "bigint" ? value.toString() : value,
  );
}

export const consoleLogger: Logger = {
  info: (message, fields) => console.log(line("info", message, fields)),
  error: (message, fields) => console.error(line("error", message, fields)),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
