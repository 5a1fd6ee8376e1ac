import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// The PostgreSQL half: the ledger, payouts, pricing and catalog suites again, each ledger a
// fresh database on the server PACKOPS_TEST_PG names (.ci/run starts a throwaway one), plus
// the PostgreSQL-only tests in test/pg. Without PACKOPS_TEST_PG it is not collected at all.
const pg = process.env.PACKOPS_TEST_PG;
process.env.PACKOPS_TEST_RUN ??= randomBytes(4).toString('hex');

/** Suites that run on both databases (pure unit tests of the same folders run once). */
const BOTH = [
  'test/ledger/cli.e2e.test.ts',
  'test/ledger/import.test.ts',
  'test/ledger/month-totals.e2e.test.ts',
  'test/ledger/creators.test.ts',
  'test/ledger/reliability.e2e.test.ts',
  'test/ledger/copy.e2e.test.ts',
  'test/ledger/nul-text.e2e.test.ts',
  'test/stores/corrections.e2e.test.ts',
  'test/payouts/cli.e2e.test.ts',
  'test/payouts/ledger.test.ts',
  'test/payouts/refusals.e2e.test.ts',
  'test/payouts/password-data.e2e.test.ts',
  'test/payouts/fixtures.e2e.test.ts',
  'test/payouts/read-transaction.e2e.test.ts',
  'test/pricing/**/*.test.ts',
  'test/catalog/publish.e2e.test.ts',
  'test/subscriptions/cli.e2e.test.ts',
  'test/subscriptions/oracle.e2e.test.ts',
  'test/stores/appstore-returns.e2e.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Spawned-CLI tests are process-heavy; two workers match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: pg ? ['./test/helpers/pg-global.ts'] : [],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: ['test/pg/**'] } },
      ...(pg
        ? [{ extends: true as const, test: { name: 'postgres', include: [...BOTH, 'test/pg/**/*.test.ts'], env: { PACKOPS_TEST_BACKEND: 'postgres' } } }]
        : []),
    ],
  },
});
