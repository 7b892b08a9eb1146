import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Interop (xmlsec1, real samples) and browser tests have their own configurations.
    exclude: [...configDefaults.exclude, "test/interop/**", "test/e2e/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
