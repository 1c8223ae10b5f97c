import { fileURLToPath } from "node:url";
import tsconfigPaths from "vite-tsconfig-paths";
import { defineConfig } from "vitest/config";

// Browser tests (`npm run test:browser`, part of `npm test`): the production build served by
// server.mjs in demo mode, driven by the run's Chromium (scripts/test-services.ts) through
// playwright-core. Kept apart from the main config because they share one build per run
// and need longer timeouts.
export default defineConfig({
  root: fileURLToPath(new URL("../../", import.meta.url)),
  plugins: [tsconfigPaths()],
  test: {
    globals: true,
    include: ["tests/browser/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts", "tests/browser/global-setup.ts"],
    setupFiles: ["tests/support/setup-env.ts"],
    pool: "forks",
    // Each file runs a server and a browser: one at a time is kinder to a 2-core machine.
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ["default"],
  },
});
