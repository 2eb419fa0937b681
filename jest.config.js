/** Jest runs TypeScript directly through ts-jest; tests mirror the source folders. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // L4 (a real pulumi up with real Kairos images) is opt-in by name: KAIROS_E2E=1 collects test/e2e.
  testPathIgnorePatterns: process.env.KAIROS_E2E === "1" ? ["/node_modules/"] : ["/node_modules/", "<rootDir>/test/e2e/"],
  // Type checking is done once by `tsc --noEmit` (npm test runs it first); ts-jest only transpiles.
  // VM and SSH tests wait on real processes; each test sets its own tighter bound.
  testTimeout: 120000,
  // In this process, the package's own name means its sources (ts-jest compiles them) inside the
  // repository, and the installed copy in a program folder elsewhere (test/resolver.js). Pulumi's
  // dynamic-provider host, a separate plain node process, resolves the same names through the
  // pulumi-kairos self-link to the built dist/, which globalSetup brings up to date first.
  resolver: "<rootDir>/test/resolver.js",
  globalSetup: "<rootDir>/test/build-package.js",
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false } }],
  },
};
