// The ledger's storage refusing the work is a clear error, not a bug: a SQLite ledger whose
// disk fills in the middle of an import (SQLITE_FULL, made real here by capping the file's
// page count on the import's own connection) is LEDGER_REFUSED (exit 3), naming the reason,
// and the import's transaction leaves the ledger exactly as it was.
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { importFile } from '../../src/ledger/import/index.js';
import { isPackopsError } from '../../src/shared/errors.js';
import { count, LEDGER_FIXTURES, refusal, seedLedger } from './seed.js';
import { writeSalesFile } from './generate.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-storage-')));
afterAll(() => tmp.cleanup());

describe('storage refusals (SQLite)', () => {
  it('a full disk in the middle of an import is LEDGER_REFUSED (exit 3) and writes nothing', async () => {
    const ledger = await seedLedger(join(tmp.dir, 'full.db'));
    try {
      await importFile(ledger, 'sales', join(LEDGER_FIXTURES, 'sales-2026-10.csv'));
      const before = await count(ledger, 'sales');
      const batches = await count(ledger, 'import_batches');
      expect(before).toBeGreaterThan(0);
      // Room for a few more pages only: 20,000 rows cannot fit.
      const { rows } = await sql<{ page_count: number }>`PRAGMA page_count`.execute(ledger.db);
      await sql.raw(`PRAGMA max_page_count = ${rows[0]!.page_count + 8}`).execute(ledger.db);
      const big = join(tmp.dir, 'big.csv');
      await writeSalesFile(big, 20_000);
      const raw = await refusal<Error & { code?: string }>(importFile(ledger, 'sales', big));
      expect(raw.code).toBe('SQLITE_FULL');
      const err = ledger.mapError(raw);
      expect(isPackopsError(err)).toBe(true);
      if (!isPackopsError(err)) return;
      expect(err.code).toBe('LEDGER_REFUSED');
      expect(err.exitCode).toBe(3);
      expect(err.message).toMatch(/the disk is full; nothing was written/);
      expect(err.details).toEqual({ reason: 'SQLITE_FULL' });
      expect(err.hint).toMatch(/SQLITE_TMPDIR/);
      // The transaction was rolled back: the ledger is as it was, and still usable.
      await sql.raw('PRAGMA max_page_count = 1073741823').execute(ledger.db);
      expect(await count(ledger, 'sales')).toBe(before);
      expect(await count(ledger, 'import_batches')).toBe(batches);
      expect(await importFile(ledger, 'sales', big)).toMatchObject({ imported: 20_000 });
    } finally {
      await ledger.close();
    }
  });

  it('an I/O error is LEDGER_REFUSED too; other driver errors are left alone', async () => {
    const ledger = await seedLedger(join(tmp.dir, 'io.db'));
    try {
      const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
      const mapped = ledger.mapError(io);
      expect(isPackopsError(mapped) && mapped.code).toBe('LEDGER_REFUSED');
      expect(isPackopsError(mapped) && mapped.details).toEqual({ reason: 'SQLITE_IOERR_WRITE' });
      const other = Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
      expect(ledger.mapError(other)).toBe(other);
    } finally {
      await ledger.close();
    }
  });
});
