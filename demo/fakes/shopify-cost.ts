// The requested (calculated) cost of an Admin GraphQL query, as Shopify computes it before
// running the query (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
//  - a scalar or enum field costs 0, an object field 1 (plus what is selected inside it);
//  - a connection (a field sized by `first` or `last`) costs 2 plus first × the cost of one
//    node (the node object's 1 plus its selection), so nested connections multiply;
//  - each mutation field costs 10 (what it selects back is not added);
//  - a query whose cost exceeds 1,000 is refused whole with MAX_COST_EXCEEDED.
// The fakes have no schema, so the type of a field is read from the query's shape: a field with
// a selection set is an object, one with `first`/`last` (or an `edges`/`nodes` selection) is a
// connection, whose `edges { node { … } }`, `nodes { … }`, `cursor` and `pageInfo` are part of
// the connection's 2. A list of objects without a size (e.g. `refunds`) counts as one object,
// as Shopify counts unsized lists. Inline fragments and fragment spreads count as the costliest
// of them (an interface's possible types).
// Plain TypeScript, no dependencies: tests/support/fake-shopify.ts and demo/fakes/shopify.ts both use it.

export const SINGLE_QUERY_MAX_COST = 1_000;
export const MUTATION_COST = 10;

type Value = { kind: "variable"; name: string } | { kind: "literal"; value: unknown };

interface Field {
  kind: "field";
  name: string;
  args: Map<string, Value>;
  selections: Selection[] | null;
}
type Selection = Field | { kind: "fragment"; selections: Selection[] } | { kind: "spread"; name: string };

interface Operation {
  type: "query" | "mutation" | "subscription";
  defaults: Map<string, unknown>;
  selections: Selection[];
}

/** A query text the cost parser cannot read (Shopify answers such a query with a parse error). */
export class GraphqlSyntaxError extends Error {}

const PUNCTUATOR = /^(\.\.\.|[!$&():=@[\]{|}])/;
const NAME = /^[_A-Za-z][_0-9A-Za-z]*/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/;
const BLOCK_STRING = /^"""[\s\S]*?"""/;
const STRING = /^"(?:[^"\\\n]|\\.)*"/;
const IGNORED = /^(?:[\s,\uFEFF]+|#[^\n\r]*)+/;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    const ignored = IGNORED.exec(rest);
    if (ignored) {
      rest = rest.slice(ignored[0].length);
      continue;
    }
    const match = PUNCTUATOR.exec(rest) ?? BLOCK_STRING.exec(rest) ?? STRING.exec(rest) ?? NUMBER.exec(rest) ?? NAME.exec(rest);
    if (!match) throw new GraphqlSyntaxError(`unexpected character ${JSON.stringify(rest[0])} at ${text.length - rest.length}`);
    tokens.push(match[0]);
    rest = rest.slice(match[0].length);
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: string[]) {}

  private peek(): string | undefined {
    return this.tokens[this.at];
  }
  private next(): string {
    const token = this.tokens[this.at];
    if (token === undefined) throw new GraphqlSyntaxError("unexpected end of query");
    this.at += 1;
    return token;
  }
  private expect(token: string): void {
    const got = this.next();
    if (got !== token) throw new GraphqlSyntaxError(`expected ${token}, got ${got}`);
  }
  private name(): string {
    const token = this.next();
    if (!NAME.test(token)) throw new GraphqlSyntaxError(`expected a name, got ${token}`);
    return token;
  }

  document(): { operations: Operation[]; fragments: Map<string, Selection[]> } {
    const operations: Operation[] = [];
    const fragments = new Map<string, Selection[]>();
    while (this.peek() !== undefined) {
      const token = this.peek();
      if (token === "{") {
        operations.push({ type: "query", defaults: new Map(), selections: this.selectionSet() });
      } else if (token === "fragment") {
        this.next();
        const name = this.name();
        this.expect("on");
        this.name();
        this.directives();
        fragments.set(name, this.selectionSet());
      } else if (token === "query" || token === "mutation" || token === "subscription") {
        this.next();
        if (this.peek() !== "(" && this.peek() !== "{" && this.peek() !== "@") this.name();
        const defaults = this.peek() === "(" ? this.variableDefinitions() : new Map<string, unknown>();
        this.directives();
        operations.push({ type: token, defaults, selections: this.selectionSet() });
      } else {
        throw new GraphqlSyntaxError(`unexpected ${token}`);
      }
    }
    return { operations, fragments };
  }

  private variableDefinitions(): Map<string, unknown> {
    const defaults = new Map<string, unknown>();
    this.expect("(");
    while (this.peek() !== ")") {
      this.expect("$");
      const name = this.name();
      this.expect(":");
      this.type();
      if (this.peek() === "=") {
        this.next();
        defaults.set(name, this.value(true));
      }
      this.directives();
    }
    this.expect(")");
    return defaults;
  }

  private type(): void {
    if (this.peek() === "[") {
      this.next();
      this.type();
      this.expect("]");
    } else {
      this.name();
    }
    if (this.peek() === "!") this.next();
  }

  private directives(): void {
    while (this.peek() === "@") {
      this.next();
      this.name();
      if (this.peek() === "(") this.args();
    }
  }

  private selectionSet(): Selection[] {
    this.expect("{");
    const selections: Selection[] = [];
    while (this.peek() !== "}") selections.push(this.selection());
    this.expect("}");
    if (selections.length === 0) throw new GraphqlSyntaxError("empty selection set");
    return selections;
  }

  private selection(): Selection {
    if (this.peek() === "...") {
      this.next();
      if (this.peek() === "on" || this.peek() === "{" || this.peek() === "@") {
        if (this.peek() === "on") {
          this.next();
          this.name();
        }
        this.directives();
        return { kind: "fragment", selections: this.selectionSet() };
      }
      const name = this.name();
      this.directives();
      return { kind: "spread", name };
    }
    let name = this.name();
    if (this.peek() === ":") {
      this.next();
      name = this.name();
    }
    const args = this.peek() === "(" ? this.args() : new Map<string, Value>();
    this.directives();
    const selections = this.peek() === "{" ? this.selectionSet() : null;
    return { kind: "field", name, args, selections };
  }

  private args(): Map<string, Value> {
    const args = new Map<string, Value>();
    this.expect("(");
    while (this.peek() !== ")") {
      const name = this.name();
      this.expect(":");
      if (this.peek() === "$") {
        this.next();
        args.set(name, { kind: "variable", name: this.name() });
      } else {
        args.set(name, { kind: "literal", value: this.value(false) });
      }
    }
    this.expect(")");
    return args;
  }

  /** A value; variables inside lists and objects are read as null (only sizes matter here). */
  private value(constant: boolean): unknown {
    const token = this.next();
    if (token === "$") {
      if (constant) throw new GraphqlSyntaxError("a variable in a constant value");
      this.name();
      return null;
    }
    if (token === "[") {
      const list: unknown[] = [];
      while (this.peek() !== "]") list.push(this.value(constant));
      this.next();
      return list;
    }
    if (token === "{") {
      const object: Record<string, unknown> = {};
      while (this.peek() !== "}") {
        const key = this.name();
        this.expect(":");
        object[key] = this.value(constant);
      }
      this.next();
      return object;
    }
    if (token.startsWith('"')) return token;
    if (NUMBER.test(token) && NUMBER.exec(token)?.[0] === token) return Number(token);
    if (NAME.test(token)) return token === "null" ? null : token;
    throw new GraphqlSyntaxError(`unexpected ${token} in a value`);
  }
}

const CONNECTION_PARTS = new Set(["edges", "node", "nodes", "cursor", "pageInfo"]);

/**
 * The requested cost of `query` with `variables` (the document's first operation: the app sends
 * one per request). Throws GraphqlSyntaxError on a query it cannot parse.
 */
export function requestedQueryCost(query: string, variables: Record<string, unknown> = {}): number {
  const { operations, fragments } = new Parser(tokenize(query)).document();
  if (operations.length === 0) throw new GraphqlSyntaxError("no operation in the document");
  const operation = operations[0];
  if (operation.type === "mutation") return operation.selections.filter((s) => s.kind === "field" && !s.name.startsWith("__")).length * MUTATION_COST;

  const size = (field: Field): number | null => {
    for (const key of ["first", "last"]) {
      const value = field.args.get(key);
      if (!value) continue;
      const resolved = value.kind === "variable" ? (variables[value.name] ?? operation.defaults.get(value.name)) : value.value;
      if (typeof resolved === "number" && Number.isInteger(resolved) && resolved >= 0) return resolved;
    }
    return null;
  };

  const seen: string[] = [];
  const selectionsCost = (selections: Selection[]): number => {
    let fields = 0;
    let alternatives = 0;
    for (const selection of selections) {
      if (selection.kind === "field") fields += fieldCost(selection);
      else if (selection.kind === "fragment") alternatives = Math.max(alternatives, selectionsCost(selection.selections));
      else {
        const fragment = fragments.get(selection.name);
        if (!fragment) throw new GraphqlSyntaxError(`unknown fragment ${selection.name}`);
        if (seen.includes(selection.name)) throw new GraphqlSyntaxError(`fragment ${selection.name} spreads itself`);
        seen.push(selection.name);
        alternatives = Math.max(alternatives, selectionsCost(fragment));
        seen.pop();
      }
    }
    return fields + alternatives;
  };

  /** One node of a connection: the node object (1) and its selection, from edges { node } or nodes. */
  const nodeCost = (connection: Field): number => {
    let cost = 0;
    for (const part of connection.selections ?? []) {
      if (part.kind !== "field") continue;
      if (part.name === "nodes" && part.selections) cost = Math.max(cost, 1 + selectionsCost(part.selections));
      if (part.name === "edges" && part.selections) {
        for (const edge of part.selections) {
          if (edge.kind === "field" && edge.name === "node" && edge.selections) cost = Math.max(cost, 1 + selectionsCost(edge.selections));
        }
      }
    }
    return cost;
  };

  const fieldCost = (field: Field): number => {
    if (field.selections === null || field.name.startsWith("__")) return 0;
    const sized = size(field);
    const isConnection = sized !== null || field.selections.some((s) => s.kind === "field" && (s.name === "edges" || s.name === "nodes"));
    if (isConnection) {
      // Shopify refuses a connection without first or last; the fakes count it as sized 0 then.
      const count = sized ?? 0;
      const extra = field.selections.filter((s) => s.kind !== "field" || !CONNECTION_PARTS.has(s.name));
      return 2 + count * nodeCost(field) + selectionsCost(extra);
    }
    return 1 + selectionsCost(field.selections);
  };

  return selectionsCost(operation.selections);
}

/** Shopify's answer to a query over the single query limit (no data; nothing taken from the bucket). */
export function maxCostExceededErrors(cost: number) {
  return [
    {
      message:
        `Query cost is ${cost}, which exceeds the single query max cost limit (${SINGLE_QUERY_MAX_COST}).\n\n` +
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\n" +
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n" +
        "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
      extensions: { code: "MAX_COST_EXCEEDED", cost, maxCost: SINGLE_QUERY_MAX_COST, documentation: "https://shopify.dev/api/usage/rate-limits" },
    },
  ];
}
