import { defineConfig } from "vitest/config";

/**
 * The long fuzz run (`npm run fuzz`): the properties of test/fuzz/ with a large budget.
 * HOADON_FUZZ_RUNS sets the runs per property (default here 20,000; `npm test` uses 150),
 * HOADON_FUZZ_SEED replays a run.
 */
export default defineConfig({
  test: {
    include: ["test/fuzz/**/*.test.ts"],
    env: { HOADON_FUZZ_RUNS: process.env.HOADON_FUZZ_RUNS ?? "20000" },
    testTimeout: 0,
    hookTimeout: 120_000,
  },
});
