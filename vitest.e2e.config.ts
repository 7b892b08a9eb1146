import { defineConfig } from "vitest/config";

/**
 * The browser suite (`npm run test:e2e`): the pages in Debian's Chromium (/usr/bin/chromium)
 * through playwright-core, with axe-core in the page. Screenshots go to test-results/e2e/.
 * One file at a time: each starts the app and a browser, and the machine has two cores.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
