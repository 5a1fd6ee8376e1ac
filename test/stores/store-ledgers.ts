/**
 * The setup of the store-import CLI tests: a seeded ledger per test (a file in the test
 * file's temporary folder, or a fresh database under the postgres project: ledgerAt) with
 * the given purchase logs already imported in-process (setup, not what is tested), and a
 * query helper. Call `storeLedgers` at the top level of a test file.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openLedger } from '../../src/ledger/db.js';
import { importFile } from '../../src/ledger/import/index.js';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { seedLedger } from '../ledger/seed.js';

/** The store-report fixtures (written from the documented formats) the CLI tests import. */
export const S = join(FIXTURES, 'stores');
export const GP = join(S, 'googleplay');
export const AS = join(S, 'appstore');
export const OCT_GP = join(GP, 'earnings_202610_com.wondernest.app.csv');
export const OCT_GP_ZIP = join(GP, 'earnings_202610_com.wondernest.app.zip');
export const NOV_GP = join(GP, 'earnings_202611_com.wondernest.app.csv');
/** The app of the Google fixtures (their account report also holds another app's rows). */
export const PKG = ['--package', 'com.wondernest.app'];

export interface StoreLedger {
  db: string;
  /** The ledger's own folder (variants of report files, a config file). */
  dir: string;
  cli: (...args: string[]) => ReturnType<typeof runCli>;
}

export function storeLedgers(prefix: string): { root: () => string; freshLedger: (...purchases: string[]) => Promise<StoreLedger> } {
  let root = '';
  let n = 0;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return {
    root: () => root,
    async freshLedger(...purchases) {
      const dir = join(root, `l${++n}`);
      mkdirSync(dir, { recursive: true });
      const db = await ledgerAt(dir, 'ledger.db');
      const ledger = await seedLedger(db);
      try {
        for (const file of purchases) await importFile(ledger, 'purchases', file);
      } finally {
        await ledger.close();
      }
      return { db, dir, cli: (...args: string[]) => runCli(['--db', db, '--json', ...args]) };
    },
  };
}

/** Runs `fn` on the ledger at `db`, closing it after. */
export async function query<T>(db: string, fn: (l: Awaited<ReturnType<typeof openLedger>>) => Promise<T>): Promise<T> {
  const l = await openLedger(db);
  try {
    return await fn(l);
  } finally {
    await l.close();
  }
}
