// An open month's `payouts report` reads the ledger in one read transaction (SQLite: BEGIN;
// PostgreSQL: REPEATABLE READ READ ONLY): an import that commits while the report is
// between its queries is wholly in the figures or not at all. The import is made to happen
// at the worst moment, deterministically: a preloaded hook (import-midway.hook.mjs) runs a
// real `packops ledger import sales` right after the report's sales GROUP BY has returned,
// and before it reads the refunds (whose sales that import adds too).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/ledger/import/index.js';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { writeSalesFile } from '../ledger/generate.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;
let later: string;
/** The same ledger before any midway import, for the pages test. */
let pagesDb: string;

beforeAll(async () => {
  tmp = tempDir('packops-report-read-tx-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  const ledger = await seedLedger(db);
  await importFile(ledger, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  const first = join(tmp.dir, 'first.csv');
  await writeSalesFile(first, 200, { prefix: 'a' });
  await importFile(ledger, 'sales', first);
  await ledger.close();
  // Rows 200…299: sales, and full refunds of sales in the same file (every 50th row).
  later = join(tmp.dir, 'later.csv');
  await writeSalesFile(later, 100, { prefix: 'b', start: 200 });
  // The same ledger again (SQLite file or PostgreSQL database alike), for the pages test.
  pagesDb = await ledgerAt(tmp.dir, 'pages.db');
  const pages = await seedLedger(pagesDb);
  await importFile(pages, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  await importFile(pages, 'sales', first);
  await pages.close();
}, 120_000);
afterAll(() => tmp.cleanup());

const report = (env: Record<string, string> = {}) =>
  runCli(['payouts', 'report', '--period', '2026-10', '--json', '--db', db], { cwd: tmp.dir, env });

/** What must agree between two reports of one state of the ledger. */
const figures = (doc: any) => ({ totals: doc.totals, tieOut: doc.tieOut, statements: doc.statements, owners: doc.owners });

describe('payouts report reads one picture of the ledger', () => {
  it('an import committing between the report’s queries is not half in its figures', async () => {
    const before = await report();
    expect(before.code, before.stderr).toBe(0);

    const done = join(tmp.dir, 'import-done');
    const during = await report({
      NODE_OPTIONS: `--import=${join(ROOT, 'test/payouts/import-midway.hook.mjs')}`,
      MIDWAY_ROOT: ROOT,
      MIDWAY_ARGS: JSON.stringify(['ledger', 'import', 'sales', later, '--db', db, '--json']),
      MIDWAY_DONE: done,
    });
    // The import really ran, inside the report, and succeeded.
    expect(existsSync(done)).toBe(true);
    expect(readFileSync(done, 'utf8')).toBe('0');
    expect(during.code, during.stderr).toBe(0);
    expect(during.json().tieOut.ok).toBe(true);

    const after = await report();
    expect(after.code, after.stderr).toBe(0);
    // The import changed the month: 100 more transactions (sales and refunds of them).
    expect(after.json().totals.transactions).toBe(before.json().totals.transactions + 100);
    expect(figures(after.json())).not.toEqual(figures(before.json()));

    // The report that ran across the import shows the ledger as it was when it began.
    expect(figures(during.json())).toEqual(figures(before.json()));
  });

  it('the pages (report + per-store breakdown + history) come from one picture too', async () => {
    const pages = (out: string, env: Record<string, string> = {}) =>
      runCli(['payouts', 'report', '--period', '2026-10', '--format', 'html', '--out', out, '--json', '--db', pagesDb], { cwd: tmp.dir, env });
    const before = await pages(join(tmp.dir, 'pages-before'));
    expect(before.code, before.stderr).toBe(0);

    const done = join(tmp.dir, 'pages-import-done');
    const during = await pages(join(tmp.dir, 'pages-during'), {
      NODE_OPTIONS: `--import=${join(ROOT, 'test/payouts/import-midway.hook.mjs')}`,
      MIDWAY_ROOT: ROOT,
      MIDWAY_ARGS: JSON.stringify(['ledger', 'import', 'sales', later, '--db', pagesDb, '--json']),
      MIDWAY_DONE: done,
    });
    expect(readFileSync(done, 'utf8')).toBe('0');
    expect(during.code, during.stderr).toBe(0);

    const after = await pages(join(tmp.dir, 'pages-after'));
    expect(after.code, after.stderr).toBe(0);
    // The import moved the per-store breakdown the summary page prints…
    expect(after.json().stores).not.toEqual(before.json().stores);
    // …but the run it committed in the middle of shows the ledger as it was when it began,
    // in the report's figures and in the breakdown read after them alike.
    const pick = (doc: any) => ({ ...figures(doc), stores: doc.stores, currencies: doc.currencies, history: doc.history });
    expect(pick(during.json())).toEqual(pick(before.json()));
  });
});

