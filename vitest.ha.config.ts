import { defineConfig } from "vitest/config";

/**
 * The database fails over (`npm run test:ha`): pg_auto_failover's monitor, primary and
 * synchronous secondary on spare ports in a temp dir, the service as a child process on the
 * multi-host URL, the primary killed under load (test/ha/). The steps of a file run in order
 * and share the cluster; one file at a time (the machine has two cores).
 */
export default defineConfig({
  test: {
    include: ["test/ha/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
