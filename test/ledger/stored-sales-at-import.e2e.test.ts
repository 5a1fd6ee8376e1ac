// A refund is measured against the sale the ledger holds, and what the ledger holds is input
// too: a stored sale whose amount or date packops cannot have written makes the import of a
// refund of it fail with LEDGER_CORRUPT (exit 3) naming the row and column, on the whole-file
// path (one file, through the CLI) and on the chunk path (several files, through the library
// call the CLI's one-file command never takes), and nothing is written.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { openLedger } from '../../src/ledger/db.js';
import { importFiles } from '../../src/ledger/import/index.js';
import { isPackopsError } from '../../src/shared/errors.js';
import { SALES_HEADER } from './generate.js';
import { seedLedger } from './seed.js';

let tmp: ReturnType<typeof tempDir>;
let base: string;
let refund: string;
let other: string;

beforeAll(async () => {
  tmp = tempDir('packops-stored-at-import-');
  base = join(tmp.dir, 'base.db');
  await (await seedLedger(base)).close();
  const sale = join(tmp.dir, 'sale.csv');
  writeFileSync(sale, `${SALES_HEADER}\nn1,2026-10-02T10:00:00Z,web,sale,ocean-creatures,US,USD,499,150,0,vpc-n1,fam-n1,\nn2,2026-10-02T11:00:00Z,web,refund,ocean-creatures,US,USD,100,0,0,,,n1\n`);
  const r = await runCli(['ledger', 'import', 'sales', sale, '--db', base, '--json']);
  expect(r.code, r.stdout).toBe(0);
  refund = join(tmp.dir, 'refund.csv');
  writeFileSync(refund, `${SALES_HEADER}\nn3,2026-10-20T10:00:00Z,web,refund,ocean-creatures,US,USD,200,0,0,,,n1\n`);
  other = join(tmp.dir, 'other.csv');
  writeFileSync(other, `${SALES_HEADER}\nn4,2026-10-21T10:00:00Z,web,sale,ocean-creatures,US,USD,499,150,0,vpc-n4,fam-n4,\n`);
}, 60_000);
afterAll(() => tmp.cleanup());

const cases = [
  { name: 'sale gross as text', sql: "UPDATE sales SET gross_minor = 'abc' WHERE transaction_id = 'n1'", row: 'store=web transaction_id=n1', column: 'gross_minor' },
  { name: 'sale gross past 2^53', sql: "UPDATE sales SET gross_minor = 9007199254740993 WHERE transaction_id = 'n1'", row: 'store=web transaction_id=n1', column: 'gross_minor' },
  { name: 'sale fee with a fraction', sql: "UPDATE sales SET store_fee_minor = 1.5 WHERE transaction_id = 'n1'", row: 'store=web transaction_id=n1', column: 'store_fee_minor' },
  { name: 'sale date', sql: "UPDATE sales SET occurred_at = 'yesterday' WHERE transaction_id = 'n1'", row: 'store=web transaction_id=n1', column: 'occurred_at' },
  { name: 'stored refund past 2^53', sql: "UPDATE sales SET gross_minor = 9007199254740993 WHERE transaction_id = 'n2'", row: 'refunds of store=web transaction_id=n1', column: 'gross_minor' },
];

function damaged(name: string, sql: string): { db: string; count: () => number; close: () => void } {
  const db = join(tmp.dir, `${name.replace(/\W+/g, '-')}.db`);
  copyFileSync(base, db);
  const raw = new BetterSqlite3(db);
  expect(raw.prepare(sql).run().changes).toBe(1);
  return { db, count: () => (raw.prepare('SELECT count(*) AS n FROM sales').get() as { n: number }).n, close: () => raw.close() };
}

describe('stored sales read by an import', () => {
  for (const c of cases) {
    it(`${c.name}: a refund of it is LEDGER_CORRUPT naming ${c.column} (one file, the CLI), nothing written`, async () => {
      const d = damaged(`${c.name}-cli`, c.sql);
      try {
        const before = d.count();
        const r = await runCli(['ledger', 'import', 'sales', refund, '--db', d.db, '--json']);
        expect(r.code, r.stdout).toBe(3);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        const error = r.json().error;
        expect(error.code).toBe('LEDGER_CORRUPT');
        expect(error.details).toEqual({ table: 'sales', row: c.row, column: c.column });
        expect(d.count()).toBe(before);
      } finally {
        d.close();
      }
    });

    it(`${c.name}: the same on the chunk path (two files)`, async () => {
      const d = damaged(`${c.name}-chunk`, c.sql);
      const ledger = await openLedger(d.db);
      try {
        const before = d.count();
        const err = await importFiles(ledger, 'sales', [refund, other]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isPackopsError(err) && { code: err.code, exitCode: err.exitCode, details: err.details }).toEqual({
          code: 'LEDGER_CORRUPT',
          exitCode: 3,
          details: { table: 'sales', row: c.row, column: c.column },
        });
        expect(d.count()).toBe(before);
      } finally {
        await ledger.close();
        d.close();
      }
    });
  }
});
