/**
 * Prints one plain closing line, `tests: N passed, N failed` (", N skipped" when any), after
 * vitest's own summary, so that CI logs carry a runner-neutral count of what ran. A file that
 * failed outside its tests (it did not load, or a beforeAll/afterAll hook threw, which leaves
 * its tests "skipped") and an unhandled error each count as one failure: the line never says
 * "0 failed" for a red run.
 */
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let failedHere = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      // A file that failed to load, or whose hooks threw, is a failure all the same.
      if (mod.state() === 'failed' && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    if (!process.env.PACKOPS_TEST_PG) {
      process.stdout.write('PostgreSQL tests were not run: set PACKOPS_TEST_PG=postgres://… to run them (README, "PostgreSQL ledger").\n');
    }
  }
}
