// The PostgreSQL sales import checks the whole file at once (COPY into one staging table,
// set-based checks, one INSERT … SELECT); so does SQLite's (a TEMP table; its chunk path is
// compared with it in test/ledger/staged-sales.test.ts).
// The same file on the same ledger must give the same answer on both: the same bad rows with
// the same codes and messages, the same rows stored, skipped and quarantined. The file mixes
// every case the whole-file checks decide, across the pipeline's 1,000-row chunks.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { freshPgDatabase, rawQuery } from '../helpers/ledgers.js';
import { importFile } from '../../src/ledger/import/index.js';
import { seedLedger } from '../ledger/seed.js';
import { salesRow } from '../ledger/generate.js';
import { attempt, expectSameQuarantine, expectSameRefusal, normalise, refund, sale, salesFile, tricky, type Refusal } from '../ledger/tricky-sales.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-pg-staged-')));
afterAll(() => tmp.cleanup());

/**
 * A file of refunds across the pipeline's chunks without any later copy of a sale: refunds
 * of sales in the ledger and in the file (adding up past the sale), of a refund, of a held
 * row, a row held for its product, a copy of it that is a refund, and refunds before their sale.
 */
function refundsAcrossChunks(dir: string): string {
  const filler = Array.from({ length: 2400 }, (_, i) => salesRow(i, 'm'));
  return salesFile(dir, 'refunds.csv', [
    sale('e-1'),
    refund('e-1-r1', 'e-1', 200),
    sale('x-1', { product: 'no-such-pack' }), // held
    refund('x-1', 'e-1', 1), // a copy of a held row (a refund): the first copy wins
    refund('late-r', 'late-1', 10), // its sale comes later
    ...filler.slice(0, 1100),
    refund('e-1-r2', 'e-1', 300), // 200 + 300 > 499, across chunks
    refund('e-1-r3', 'e-1', 299), // 200 + 299 = 499
    refund('m5-r', 'm5', 10_000), // more than the sale
    refund('e-1-r4', 'e-1', 1, { currency: 'GBP' }), // the wrong currency
    refund('e-1-r1-r', 'e-1-r1', 1), // a refund of a refund
    refund('x-1-r', 'x-1', 1), // a refund of a held sale
    refund('l-1-r2', 'l-1', 399), // a stored sale: 100 + 399 = 499
    ...filler.slice(1100),
    sale('late-1'),
    refund('m2000-r', 'm2000', 1), // a sale in the last chunk
  ]);
}

describe('PostgreSQL staged sales import', () => {
  it('refuses the same rows with the same codes and messages as SQLite, and writes nothing', async () => {
    const path = tricky(tmp.dir);
    const lite = await attempt(join(tmp.dir, 'refuse.db'), tmp.dir, path, false);
    const pgDb = await freshPgDatabase('staged');
    const pg = await attempt(pgDb, tmp.dir, path, false);
    expectSameRefusal(pg, lite);
  });

  it('with --quarantine stores, skips and quarantines the same rows as SQLite', async () => {
    const path = tricky(tmp.dir);
    const lite = await attempt(join(tmp.dir, 'quarantine.db'), tmp.dir, path, true);
    const pgDb = await freshPgDatabase('stagedq');
    const pg = await attempt(pgDb, tmp.dir, path, true);
    expectSameQuarantine(pg, lite);
  });

  it('refunds across chunks, held rows and copies are decided as on SQLite, refused or quarantined', async () => {
    const path = refundsAcrossChunks(tmp.dir);
    for (const quarantine of [false, true]) {
      const lite = await attempt(join(tmp.dir, `refunds-${quarantine}.db`), tmp.dir, path, quarantine);
      const pgDb = await freshPgDatabase(`refunds${quarantine ? 'q' : ''}`);
      const pg = await attempt(pgDb, tmp.dir, path, quarantine);
      expect(lite.result.ok).toBe(quarantine);
      if (!lite.result.ok && !pg.result.ok) {
        const shown = (e: Refusal) => e.details.rows.map((r) => ({ ...r, message: normalise(r.message) }));
        expect(shown(pg.result.e)).toEqual(shown(lite.result.e));
        expect(new Set(shown(pg.result.e).map((r) => r.code))).toEqual(
          new Set(['ROW_REFUND_EXCEEDS', 'ROW_REFUND_UNKNOWN', 'ROW_PRODUCT_UNKNOWN', 'ROW_DUPLICATE_IN_FILE', 'ROW_INVALID']),
        );
      }
      expect(pg.result).toEqual(lite.result);
      expect(pg.stored).toEqual(lite.stored);
      expect(pg.quarantined).toEqual(lite.quarantined);
      if (quarantine) expect(pg.stored.length).toBeGreaterThan(2000);
    }
  });

  it('a re-import of a large file skips every row and stores nothing twice', async () => {
    const db = await freshPgDatabase('again');
    const ledger = await seedLedger(db);
    try {
      const path = salesFile(tmp.dir, 'again.csv', Array.from({ length: 3000 }, (_, i) => salesRow(i, 'g')));
      expect(await importFile(ledger, 'sales', path)).toMatchObject({ imported: 3000, skipped: 0 });
      expect(await importFile(ledger, 'sales', path)).toMatchObject({ imported: 0, skipped: 3000 });
      expect(await rawQuery(db, 'SELECT count(*) AS n FROM sales')).toEqual([{ n: 3000 }]);
    } finally {
      await ledger.close();
    }
  });
});
