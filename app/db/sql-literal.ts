// SQL literals for COPY, the one statement that takes no parameters: a query's `$n`
// placeholders are written in as literals of the same type.

/**
 * A value as an SQL literal, for the one statement that takes no parameters: COPY (the
 * export's CSV, the refit's read of the counted orders). Quotes doubled; with a backslash, an E'' string
 * with backslashes doubled, so it reads the same whatever standard_conforming_strings is
 * (node-postgres' escapeLiteral). Text with a NUL byte is refused (PostgreSQL has none).
 */
export function sqlLiteral(value: string): string {
  if (value.includes("\u0000")) throw new Error("Text with a NUL character cannot be sent to PostgreSQL.");
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes("\\") ? ` E${quoted.replace(/\\/g, "\\\\")}` : quoted;
}

/** One query parameter as an SQL literal of the same type: text, a finite number, or an array (as text[]). */
function parameterLiteral(value: unknown): string {
  if (typeof value === "string") return sqlLiteral(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`A COPY statement's number parameter is not finite: ${value}.`);
    return sqlLiteral(String(value));
  }
  if (Array.isArray(value)) {
    if (value.some((item) => item === null || item === undefined)) throw new Error("A COPY statement's array parameter holds a null, which text[] literals here do not write.");
    return `ARRAY[${value.map((item) => sqlLiteral(String(item))).join(", ")}]::text[]`;
  }
  throw new Error(`A COPY statement's parameter cannot be written into SQL: ${JSON.stringify(value)}.`);
}

/** `sql` with its `$n` placeholders replaced by `params`' literals (our SQL: no `$` in its text otherwise). */
export function inlineSqlParameters(sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)\b/g, (_, index: string) => {
    const position = Number(index) - 1;
    if (position < 0 || position >= params.length) throw new Error(`The SQL names a parameter it does not have: $${index}.`);
    return parameterLiteral(params[position]);
  });
}
