import { defineConfig } from "vitest/config";

/**
 * The signing samples of examples/ (`npm run test:samples`): C#, Java and Python programs built
 * and run against the service as a child process on PostgreSQL (DATABASE_URL).
 */
export default defineConfig({
  test: {
    include: ["test/samples/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
