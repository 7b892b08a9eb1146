import { defineConfig } from "vitest/config";

/**
 * Tests that start real processes (`npm run test:faults`): the service as a child process under
 * SIGTERM, kill -9, a stopped PostgreSQL and bad configuration; the Worker under `wrangler dev`.
 * One file at a time: they start servers and databases, and the machine has two cores.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts", "test/worker/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
