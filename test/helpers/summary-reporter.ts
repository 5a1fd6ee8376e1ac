/**
 * Prints one plain closing line, `tests: N passed, N failed` (", N skipped" when any), after
 * vitest's own summary, so that CI logs carry a runner-neutral count of what ran.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but is a failure all the same.
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    if (!process.env.PACKOPS_TEST_PG) {
      process.stdout.write('PostgreSQL tests were not run: set PACKOPS_TEST_PG=postgres://… to run them (README, "PostgreSQL ledger").\n');
    }
  }
}
