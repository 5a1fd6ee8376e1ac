// The PostgreSQL sales import checks the whole file at once (COPY into one staging table,
// set-based checks, one INSERT … SELECT); SQLite checks it chunk by chunk against the ledger.
// The same file on the same ledger must give the same answer on both: the same bad rows with
// the same codes and messages, the same rows stored, skipped and quarantined. The file mixes
// every case the whole-file checks decide, across the pipeline's 1,000-row chunks.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { freshPgDatabase, rawQuery } from '../helpers/ledgers.js';
import type { Ledger } from '../../src/ledger/db.js';
import { importFile } from '../../src/ledger/import/index.js';
import { seedLedger } from '../ledger/seed.js';
import { SALES_HEADER, salesRow } from '../ledger/generate.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-pg-staged-')));
afterAll(() => tmp.cleanup());

const sale = (id: string, o: { at?: string; product?: string; currency?: string; gross?: number; store?: string } = {}) =>
  [id, o.at ?? '2026-10-05T10:00:00Z', o.store ?? 'appstore', 'sale', o.product ?? 'com.wondernest.pack.ocean', 'US', o.currency ?? 'USD', o.gross ?? 499, 150, 0, `vpc-${id}`, `fam-${id}`, ''].join(',');
const refund = (id: string, of: string, gross: number, o: { at?: string; currency?: string; fee?: number } = {}) =>
  [id, o.at ?? '2026-10-20T10:00:00Z', 'appstore', 'refund', 'com.wondernest.pack.ocean', 'US', o.currency ?? 'USD', gross, o.fee ?? 0, 0, '', '', of].join(',');

function file(name: string, lines: string[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${SALES_HEADER}\n${lines.join('\n')}\n`);
  return path;
}

/** The ledger before the import: a closed September with a stored sale, stored October sales and refunds. */
async function prepared(location: string): Promise<Ledger> {
  const ledger = await seedLedger(location);
  await importFile(ledger, 'sales', file('before.csv', [
    sale('sep-1', { at: '2026-09-10T10:00:00Z' }),
    sale('l-1'),
    refund('l-1-r1', 'l-1', 100),
    sale('p-1'),
  ]));
  await ledger.db.insertInto('closed_periods').values({ month: '2026-09', closed_at: '2026-10-01T00:00:00Z', totals: '{}' }).execute();
  return ledger;
}

/** The file: tricky rows around 1,200 plain ones, so copies and refunds cross chunk boundaries. */
function tricky(): string {
  const filler = Array.from({ length: 1200 }, (_, i) => salesRow(i, 'f'));
  return file('tricky.csv', [
    sale('a-1'),
    sale('a-1'), // a later copy in the same chunk
    sale('b-1', { currency: 'ZZZ' }), // bad
    sale('b-1'), // a copy of a bad row
    refund('b-1-r', 'b-1', 100), // refund of a bad sale
    refund('a-1-r1', 'a-1', 200),
    refund('a-1-r2', 'a-1', 300), // 200 + 300 > 499
    refund('a-1-r3', 'a-1', 299), // 200 + 299 = 499
    refund('late-r', 'late-1', 10), // its sale comes later
    sale('late-1'),
    sale('sep-1', { at: '2026-09-10T10:00:00Z' }), // stored before the close: skipped
    sale('sep-1', { at: '2026-09-10T10:00:00Z' }), // and its copy
    sale('p-1', { product: 'no-such-pack' }), // stored: skipped whatever its product now
    sale('u-1', { product: 'no-such-pack' }), // unknown product
    sale('u-1', { product: 'no-such-pack' }),
    refund('u-1-r', 'u-1', 5),
    refund('l-1-r2', 'l-1', 400), // 100 stored + 400 > 499
    refund('l-1-r3', 'l-1', 399), // 100 + 399 = 499
    refund('l-1-r1', 'l-1', 100), // stored refund: skipped
    refund('a-1-cur', 'a-1', 1, { currency: 'GBP' }),
    ',2026-10-05T10:00:00Z,appstore,sale,com.wondernest.pack.ocean,US,USD,499,150,0,vpc,fam,', // no id
    ...filler.slice(0, 600),
    refund('f7-r', 'f7', 600, { at: '2026-11-01T00:00:00Z' }), // more than the sale
    ...filler.slice(600),
    sale('f10'), // a copy of a filler row
    sale('a-1'), // a later copy in another chunk
    // A refund of a refund. (In the refund's own chunk SQLite says "No earlier sale …" for it,
    // PostgreSQL "… is a refund, not a sale" wherever it is: the same code, ROW_REFUND_UNKNOWN.)
    refund('a-1-r1-r', 'a-1-r1', 1),
    refund('a-1-r4', 'a-1', 1, { fee: 1 }), // the gross is used up already
  ]);
}

type Refusal = { code: string; exitCode: number; details: { badRows: number; rows: Array<{ row: number; column: string; code: string; message: string }> } };

/**
 * A file whose sales are moved early (PACKOPS_TEST_PG_MOVE_ROWS) without any later copy of a
 * sale, so nothing moved is taken back: refunds of moved sales (in the ledger and in the file,
 * adding up past the sale), of a refund, of a held row, a row held for its product, a copy of
 * it that is a refund, and refunds before their sale.
 */
function movedEarly(): string {
  const filler = Array.from({ length: 2400 }, (_, i) => salesRow(i, 'm'));
  return file('moved.csv', [
    sale('e-1'),
    refund('e-1-r1', 'e-1', 200),
    sale('x-1', { product: 'no-such-pack' }), // held
    refund('x-1', 'e-1', 1), // a copy of a held row (a refund): the first copy wins
    refund('late-r', 'late-1', 10), // its sale comes later (and moves later)
    ...filler.slice(0, 1100),
    refund('e-1-r2', 'e-1', 300), // 200 + 300 > 499, across a move
    refund('e-1-r3', 'e-1', 299), // 200 + 299 = 499
    refund('m5-r', 'm5', 10_000), // more than the moved sale
    refund('e-1-r4', 'e-1', 1, { currency: 'GBP' }), // the wrong currency
    refund('e-1-r1-r', 'e-1-r1', 1), // a refund of a refund
    refund('x-1-r', 'x-1', 1), // a refund of a held sale
    refund('l-1-r2', 'l-1', 399), // a stored sale: 100 + 399 = 499
    ...filler.slice(1100),
    sale('late-1'),
    refund('m2000-r', 'm2000', 1), // a sale moved in the last move
  ]);
}

/** With `moveRows`, the PostgreSQL import moves accepted sales into the ledger every that many rows. */
async function withMoves<T>(moveRows: number | undefined, run: () => Promise<T>): Promise<T> {
  const before = process.env.PACKOPS_TEST_PG_MOVE_ROWS;
  if (moveRows === undefined) delete process.env.PACKOPS_TEST_PG_MOVE_ROWS;
  else process.env.PACKOPS_TEST_PG_MOVE_ROWS = String(moveRows);
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env.PACKOPS_TEST_PG_MOVE_ROWS;
    else process.env.PACKOPS_TEST_PG_MOVE_ROWS = before;
  }
}

async function attempt(location: string, path: string, quarantine: boolean, moveRows?: number) {
  const ledger = await prepared(location);
  try {
    const result = await withMoves(moveRows, () => importFile(ledger, 'sales', path, { quarantine })).then(
      (s) => ({ ok: true as const, s: { rows: s.rows, imported: s.imported, skipped: s.skipped, quarantined: s.quarantined } }),
      (e: unknown) => ({ ok: false as const, e: e as Refusal }),
    );
    const stored = (await ledger.db.selectFrom('sales').select(['store', 'transaction_id', 'gross_minor', 'batch_id']).orderBy('store').orderBy('transaction_id').execute()).map(
      (r) => `${r.store}/${r.transaction_id}/${r.gross_minor}`,
    );
    // (row_key is an HMAC with each ledger's own secret)
    const quarantined = (await ledger.db.selectFrom('quarantine').select(['row_number', 'code', 'reasons', 'raw']).orderBy('row_number').execute()).map((q) => ({
      ...q,
      reasons: normalise(q.reasons),
    }));
    return { result, stored, quarantined };
  } finally {
    await ledger.close();
  }
}

/** SQLite names the first copy's row when it is in the same chunk and says "earlier in this file" otherwise. */
const normalise = (message: string) => message.replace(/already appears (in row \d+|earlier in this file)/g, 'already appears (earlier)');

describe('PostgreSQL staged sales import', () => {
  // Without moves (a file under 50,000 rows), and with sales moved early every chunk: the
  // tricky file has later copies of moved sales, so everything moved is taken back.
  it.each([undefined, 1])('refuses the same rows with the same codes and messages as SQLite, and writes nothing (moves every %s rows)', async (moveRows) => {
    const path = tricky();
    const lite = await attempt(join(tmp.dir, `refuse-${moveRows}.db`), path, false);
    const pg = await attempt(await freshPgDatabase(`staged${moveRows ?? ''}`), path, false, moveRows);
    expect(lite.result.ok).toBe(false);
    expect(pg.result.ok).toBe(false);
    if (lite.result.ok || pg.result.ok) return;
    expect(pg.result.e.code).toBe('ROWS_INVALID');
    const shown = (e: Refusal) => e.details.rows.map((r) => ({ ...r, message: normalise(r.message) }));
    expect(shown(pg.result.e)).toEqual(shown(lite.result.e));
    expect(pg.result.e.details.badRows).toBe(lite.result.e.details.badRows);
    const codes = new Set(pg.result.e.details.rows.map((r) => r.code));
    for (const code of ['ROW_DUPLICATE_IN_FILE', 'ROW_REFUND_UNKNOWN', 'ROW_REFUND_EXCEEDS', 'ROW_PRODUCT_UNKNOWN', 'ROW_INVALID']) expect(codes).toContain(code);
    // The whole-file check names the first copy's row wherever it is.
    const later = pg.result.e.details.rows.find((r) => r.code === 'ROW_DUPLICATE_IN_FILE' && r.row > 1001 && r.message.includes('a-1 '))!;
    expect(later.message).toMatch(/a-1 \(appstore\) already appears in row 2;/);
    expect(pg.stored).toEqual(lite.stored);
    expect(pg.stored).toHaveLength(4);
  });

  it.each([undefined, 1])('with --quarantine stores, skips and quarantines the same rows as SQLite (moves every %s rows)', async (moveRows) => {
    const path = tricky();
    const lite = await attempt(join(tmp.dir, `quarantine-${moveRows}.db`), path, true);
    const pg = await attempt(await freshPgDatabase(`stagedq${moveRows ?? ''}`), path, true, moveRows);
    expect(pg.result).toEqual(lite.result);
    expect(pg.result).toMatchObject({ ok: true, s: { rows: 1226 } });
    expect(pg.stored).toEqual(lite.stored);
    expect(pg.quarantined).toEqual(lite.quarantined);
    expect(pg.quarantined.length).toBeGreaterThan(10);
  });

  it('sales moved early: refunds, held rows and copies are decided as on SQLite, refused or quarantined', async () => {
    const path = movedEarly();
    for (const quarantine of [false, true]) {
      const lite = await attempt(join(tmp.dir, `moved-${quarantine}.db`), path, quarantine);
      const pg = await attempt(await freshPgDatabase(`moved${quarantine ? 'q' : ''}`), path, quarantine, 1);
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

  it('a re-import of a large file skips every row and moves nothing', async () => {
    const db = await freshPgDatabase('again');
    const ledger = await seedLedger(db);
    try {
      const path = file('again.csv', Array.from({ length: 3000 }, (_, i) => salesRow(i, 'g')));
      expect(await importFile(ledger, 'sales', path)).toMatchObject({ imported: 3000, skipped: 0 });
      expect(await importFile(ledger, 'sales', path)).toMatchObject({ imported: 0, skipped: 3000 });
      expect(await rawQuery(db, 'SELECT count(*) AS n FROM sales')).toEqual([{ n: 3000 }]);
    } finally {
      await ledger.close();
    }
  });
});
