import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

// What app/analytics may not import (its block below; its tests get these and unitTestPurity).
const analyticsPurity = [
  { group: ["@prisma/*", "prisma", "bullmq", "ioredis", "pg", "@remix-run/*", "@shopify/*", "node:fs", "fs", "node:net", "node:http"], message: "app/analytics is pure: no I/O or framework imports." },
  { group: ["~/db.server", "~/shopify.server", "**/*.server", "**/*.server.ts"], message: "app/analytics is pure." },
];

// Tests beside the code are unit tests: a test that needs PostgreSQL, Redis, a server or a
// browser lives under tests/ (tests/README.md). Pure builders and fixtures from tests/support
// are fine; its database, Redis, queue and server helpers are not.
const unitTestPurity = [
  {
    group: [
      "**/tests/support/db", "**/tests/support/databases", "**/tests/support/redis", "**/tests/support/private-redis",
      "**/tests/support/metrics*", "**/tests/support/ingested-shops", "**/tests/support/customer-metrics-rows",
      "**/tests/support/precomputed-rows", "**/tests/support/queues", "**/tests/support/fake-shopify",
      "**/tests/support/setup-env", "**/tests/support/global-setup", "**/tests/support/destinations",
    ],
    message: "A test beside the code is a unit test: one that needs PostgreSQL, Redis or a server belongs under tests/ (tests/README.md).",
  },
  { group: ["pg", "ioredis", "bullmq", "@prisma/client", "node:net", "node:http"], message: "A test beside the code is a unit test: one that needs PostgreSQL, Redis or a server belongs under tests/ (tests/README.md)." },
];

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "dist/", ".tools/", ".demo/", "bench/results/", "app/generated/", "public/build/", "extensions/*/dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    // The analytics library is pure: no database, queue, web framework or Shopify code.
    files: ["app/analytics/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: analyticsPurity }],
    },
  },
  {
    // Unit tests beside the code (and the demo generator's) reach no service.
    files: ["app/**/*.test.ts", "app/**/*.test.tsx", "demo/**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: unitTestPurity }] },
  },
  {
    // A later block replaces the rule for overlapping files: analytics tests keep both lists.
    files: ["app/analytics/**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [...analyticsPurity, ...unitTestPurity] }] },
  },
  {
    // Clients come out of a pool through checkOut (app/db/pg.server.ts), which listens for the
    // connection dying: an unheard 'error' event on a checked-out client kills the process.
    files: ["app/**/*.ts", "scripts/**/*.ts", "demo/**/*.ts"],
    ignores: ["app/db/pg.server.ts", "**/*.test.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='connect'][callee.object.name=/[pP]ool$/]",
          message: "Check a client out with checkOut(pool) from app/db/pg.server.ts: it listens for the connection dying.",
        },
      ],
    },
  },
);
