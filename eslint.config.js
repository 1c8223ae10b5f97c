import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", ".tools/", ".demo/", "bench/results/", "app/generated/", "public/build/"] },
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
      "no-restricted-imports": ["error", { patterns: [
        { group: ["@prisma/*", "prisma", "bullmq", "ioredis", "pg", "@remix-run/*", "@shopify/*", "node:fs", "fs", "node:net", "node:http"], message: "app/analytics is pure: no I/O or framework imports." },
        { group: ["~/db.server", "~/shopify.server", "**/*.server", "**/*.server.ts"], message: "app/analytics is pure." },
      ] }],
    },
  },
);
