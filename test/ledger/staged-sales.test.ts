// A one-file `ledger import sales` on SQLite takes the whole-file staged path
// (src/ledger/import/sales-staged.ts); several files, or a caller's own row writer, take the
// chunk path (sales.ts `check`). Both must give the same answer on the same ledger: the
// same bad rows with the same codes and messages, the same rows stored, skipped and
// quarantined, and nothing written on a refusal.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { rawQuery } from '../helpers/ledgers.js';
import { importFile, runImport } from '../../src/ledger/import/index.js';
import { KeyFingerprints } from '../../src/ledger/import/key-fingerprints.js';
import { salesImporter } from '../../src/ledger/import/sales.js';
import { multiRowInsert } from '../../src/ledger/import/writer.js';
import { seedLedger } from './seed.js';
import { salesRow } from './generate.js';
import { attempt, expectSameQuarantine, expectSameRefusal, prepared, refund, sale, salesFile, tricky, type Refusal } from './tricky-sales.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-staged-sales-')));
afterAll(() => tmp.cleanup());

/** The chunk path: a caller's own writer turns the whole-file path off. */
const CHUNKED = { writer: multiRowInsert };

describe('SQLite staged sales import', () => {
  it('refuses the same rows with the same codes and messages as the chunk path, and writes nothing', async () => {
    const path = tricky(tmp.dir);
    const staged = await attempt(join(tmp.dir, 'refuse-staged.db'), tmp.dir, path, false);
    const chunked = await attempt(join(tmp.dir, 'refuse-chunked.db'), tmp.dir, path, false, CHUNKED);
    expectSameRefusal(staged, chunked);
  });

  it('with --quarantine stores, skips and quarantines the same rows as the chunk path', async () => {
    const path = tricky(tmp.dir);
    const staged = await attempt(join(tmp.dir, 'quarantine-staged.db'), tmp.dir, path, true);
    const chunked = await attempt(join(tmp.dir, 'quarantine-chunked.db'), tmp.dir, path, true, CHUNKED);
    expectSameQuarantine(staged, chunked);
  });

  it('gives the same answer when every key fingerprint collides with others (3-bit fingerprints)', async () => {
    const path = tricky(tmp.dir);
    for (const quarantine of [false, true]) {
      const wide = await attempt(join(tmp.dir, `wide-${quarantine}.db`), tmp.dir, path, quarantine);
      const ledger = await prepared(join(tmp.dir, `narrow-${quarantine}.db`), tmp.dir);
      try {
        const narrow = await runImport(ledger, salesImporter(await ledger.familySecret(), { fingerprintBits: 3 }), [path], { quarantine }).then(
          (r) => ({ ok: true as const, s: { rows: r.rows, imported: r.imported, skipped: r.skipped, quarantined: r.quarantined } }),
          (e: unknown) => ({ ok: false as const, e: e as Refusal }),
        );
        if (wide.result.ok) expect(narrow).toEqual(wide.result);
        else {
          expect(narrow.ok).toBe(false);
          if (!narrow.ok) expect(narrow.e.details.rows).toEqual(wide.result.e.details.rows);
        }
        const stored = (await ledger.db.selectFrom('sales').select(['store', 'transaction_id', 'gross_minor']).orderBy('store').orderBy('transaction_id').execute()).map(
          (r) => `${r.store}/${r.transaction_id}/${r.gross_minor}`,
        );
        expect(stored).toEqual(wide.stored);
      } finally {
        await ledger.close();
      }
    }
  });

  it('key fingerprints: every copy of a repeated key is a suspect; a first row is found by fingerprint', () => {
    for (const bits of [32, 4]) {
      const keys = new KeyFingerprints(bits);
      const ids = Array.from({ length: 200_000 }, (_, i) => `t${i}`);
      ids.push('t5', 't199999', 't5');
      ids.forEach((id, row) => keys.add(keys.fingerprint('web', id), row));
      const suspects = keys.suspects();
      for (const row of [5, 199_999, 200_000, 200_001, 200_002]) expect(suspects.has(row)).toBe(true);
      if (bits === 32) expect(suspects.size).toBeLessThan(50); // a few chance collisions at most
      const first = keys.first(keys.fingerprint('web', 't123'));
      expect(first === 123 || suspects.has(123)).toBe(true);
      expect(keys.first(keys.fingerprint('appstore', 'never-seen')) === -1 || bits < 32).toBe(true);
    }
  });

  it('re-imports skip stored rows and write the new ones, on one open ledger, run after run', async () => {
    const db = join(tmp.dir, 'again.db');
    const ledger = await seedLedger(db);
    try {
      const first = salesFile(tmp.dir, 'first.csv', Array.from({ length: 2000 }, (_, i) => salesRow(i, 'g')));
      const more = salesFile(tmp.dir, 'more.csv', [
        ...Array.from({ length: 3000 }, (_, i) => salesRow(i, 'g')),
        refund('g6-r', 'g6', 100, { at: '2026-11-01T00:00:00Z' }),
      ]);
      expect(await importFile(ledger, 'sales', first)).toMatchObject({ imported: 2000, skipped: 0 });
      // The same connection again: the first import's TEMP tables are gone.
      expect(await importFile(ledger, 'sales', more)).toMatchObject({ imported: 1001, skipped: 2000, quarantined: 0 });
      expect(await importFile(ledger, 'sales', more)).toMatchObject({ imported: 0, skipped: 3001 });
      expect(await importFile(ledger, 'sales', more, CHUNKED)).toMatchObject({ imported: 0, skipped: 3001 });
    } finally {
      await ledger.close();
    }
    expect(await rawQuery(db, 'SELECT count(*) AS n, sum(kind = ?) AS refunds FROM sales', ['refund'])).toEqual([{ n: 3001, refunds: 61 }]) // every 50th generated row, and g6-r;
    // Derived columns are computed on the way in as the chunk path binds them.
    const [row] = await rawQuery<Record<string, unknown>>(db, "SELECT month, product_kind, pack_slug, bundle_slug, plan_id FROM sales WHERE transaction_id = 'g6-r'");
    expect(row).toEqual({ month: '2026-11', product_kind: expect.any(String), pack_slug: expect.anything(), bundle_slug: null, plan_id: null });
    expect(await rawQuery(db, 'SELECT count(*) AS n FROM sales s JOIN import_batches b ON b.id = s.batch_id')).toEqual([{ n: 3001 }]);
  });

  it('a refund of a sale stored earlier adds up with the refunds stored of it, and the file', async () => {
    const db = join(tmp.dir, 'refunds.db');
    const ledger = await seedLedger(db);
    try {
      await importFile(ledger, 'sales', salesFile(tmp.dir, 'sale.csv', [sale('s-1'), refund('s-1-r1', 's-1', 200)]));
      const path = salesFile(tmp.dir, 'refunds.csv', [refund('s-1-r2', 's-1', 200), refund('s-1-r3', 's-1', 100), sale('s-2'), refund('s-2-r1', 's-2', 499)]);
      const refused = await importFile(ledger, 'sales', path).catch((e: unknown) => e as Refusal);
      expect(refused).toMatchObject({ code: 'ROWS_INVALID', details: { rows: [{ row: 3, code: 'ROW_REFUND_EXCEEDS' }] } });
      expect(await importFile(ledger, 'sales', path, { quarantine: true })).toMatchObject({ imported: 3, quarantined: 1 });
    } finally {
      await ledger.close();
    }
  });
});
