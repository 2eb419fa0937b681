/** Jest runs TypeScript directly through ts-jest; tests mirror the source folders. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // VM and SSH tests wait on real processes; each test sets its own tighter bound.
  testTimeout: 120000,
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: false }],
  },
};
