/** Jest runs TypeScript directly through ts-jest; tests mirror the source folders. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Type checking is done once by `tsc --noEmit` (npm test runs it first); ts-jest only transpiles.
  // VM and SSH tests wait on real processes; each test sets its own tighter bound.
  testTimeout: 120000,
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: true }],
  },
};
