import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Interop (xmlsec1, real samples), browser tests and the tests that start processes
    // (faults, wrangler dev: vitest.faults.config.ts; the signing samples: vitest.samples.config.ts;
    // the database failing over: vitest.ha.config.ts) have their own configurations.
    exclude: [...configDefaults.exclude, "test/interop/**", "test/e2e/**", "test/faults/**", "test/worker/**", "test/samples/**", "test/ha/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
