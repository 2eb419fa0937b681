/** One cluster per test file; run files one after another unless the host has room for more VMs. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  maxWorkers: 1,
};
