// Reads vitest's JSON report and prints the closing line `N passed, N failed`. A test file that
// failed without a failed test (it failed to load, or a beforeAll/afterAll hook threw, so its tests
// were skipped) counts as one failure, and so does a run vitest itself calls unsuccessful (an
// unhandled error): the line must never read `0 failed` for a run that did not pass.
// Usage: node .ci/summary.cjs <report.json> [failed steps outside vitest] [vitest's exit code]
// Exit code: 0 when the line has no failure and at least one test ran, 1 otherwise.
const path = require('node:path');

const report = require(path.resolve(process.argv[2] ?? 'test-results/vitest.json'));
const failedFiles = report.testResults.filter((file) => file.status !== 'passed' && !file.assertionResults.some((test) => test.status === 'failed'));
for (const file of failedFiles) {
  const reason = (file.message || 'no test failed, but the file did not pass').split('\n')[0];
  console.error(`counted as failed: ${path.relative(process.cwd(), file.name)}: ${reason}`);
}
let failed = report.numFailedTests + failedFiles.length;
const vitestExitCode = Number(process.argv[4] ?? 0);
if (failed === 0 && (report.success === false || vitestExitCode !== 0)) {
  console.error(`counted as failed: vitest did not pass (success ${report.success}, exit code ${vitestExitCode}): an unhandled error?`);
  failed = 1;
}
failed += Number(process.argv[3] ?? 0); // failed steps outside vitest (typecheck, synth, lint)
console.log(`${report.numPassedTests} passed, ${failed} failed`);
process.exitCode = failed === 0 && report.numTotalTests > 0 ? 0 : 1;
