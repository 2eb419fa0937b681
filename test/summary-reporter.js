/**
 * Prints one plain closing line, "tests: N passed, N failed[, N skipped]", after jest's own summary,
 * so CI logs end with a count any reader (or tool) recognises; above it, every skipped test by name
 * (a skip carries its reason in its name, e.g. an outside oracle absent: test/oracles.ts).
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skippedNames = [];
    for (const file of results.testResults) {
      for (const t of file.testResults) if (t.status === "pending" || t.status === "todo") skippedNames.push(t.fullName);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    if (skippedNames.length) process.stdout.write(`\nskipped:\n${skippedNames.map((n) => `  - ${n}`).join("\n")}\n`);
    const tail = skipped ? `, ${skipped} skipped` : "";
    process.stdout.write(`\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${tail}\n`);
  }
}
module.exports = SummaryReporter;
