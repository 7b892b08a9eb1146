import { defineConfig } from "vitest/config";

/** Suites that need outside tools: live xmlsec1 and xmllint (`npm run test:interop`). */
export default defineConfig({
  test: {
    include: ["test/interop/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
