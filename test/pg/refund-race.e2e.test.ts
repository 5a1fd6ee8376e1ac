// PostgreSQL: two sales imports started at once, one storing sales, the other its own copies
// of the same ids (larger amounts) and refunds of them. Whatever the interleaving, no stored
// refund may exceed its sale as stored, and the outcome must be one of the two serial orders:
// - the sales first: the refunding import is refused (ROW_REFUND_EXCEEDS on every refund,
//   exit 3) and nothing of it is stored;
// - the refunding import first: it stores everything, the other skips every row (exit 0).
// Several rounds with different paddings move the moment each import reaches its checks; no
// timing is asserted. A second test pins the one interleaving that stored over-refunds
// before (the sales inserted but not yet committed while the refunds are checked), with a
// test connection in the sales import's place and pg_locks watched, never a clock.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { LOCK_CLASS, SALES_LOCK, WRITE_LOCK } from '../../src/ledger/pg.js';
import { freshPgDatabase, rawQuery } from '../helpers/ledgers.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { SALES_HEADER } from '../ledger/generate.js';

const require = createRequire(import.meta.url);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-pg-refund-race-')));
afterAll(() => tmp.cleanup());

const N = 3000;

function file(name: string, lines: string[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${SALES_HEADER}\n${lines.join('\n')}\n`);
  return path;
}

const sale = (id: string, gross: number, fee: number) => `${id},2026-10-05T10:00:00Z,web,sale,ocean-creatures,US,USD,${gross},${fee},0,vpc-${id},fam-${id},`;
const refund = (id: string, of: string, gross: number, fee: number) => `${id},2026-10-06T10:00:00Z,web,refund,ocean-creatures,US,USD,${gross},${fee},0,,fam-${of},${of}`;

/** Refunds whose stored refunds, added up, exceed their stored sale in any amount. */
async function overRefunded(db: string): Promise<number> {
  const rows = await rawQuery<{ n: number }>(
    db,
    `SELECT count(*) AS n FROM sales s
       JOIN (SELECT store, refund_of, sum(gross_minor) AS g, sum(store_fee_minor) AS f, sum(tax_minor) AS t
               FROM sales WHERE kind = 'refund' GROUP BY store, refund_of) r
         ON r.store = s.store AND r.refund_of = s.transaction_id
      WHERE s.kind <> 'sale' OR r.g > s.gross_minor OR r.f > s.store_fee_minor OR r.t > s.tax_minor`,
  );
  return rows[0]!.n;
}

describe('PostgreSQL: concurrent sales imports never store a refund above its sale', () => {
  it('a file of sales and a file refunding its own larger copies of them, started together, round after round', async () => {
    const sales = Array.from({ length: N }, (_, i) => sale(`x-${i}`, 100, 10));
    const copies = Array.from({ length: N }, (_, i) => sale(`x-${i}`, 999, 90));
    const refunds = Array.from({ length: N }, (_, i) => refund(`xr-${i}`, `x-${i}`, 800, 80));
    const b = file('b.csv', [...copies, ...refunds]);
    const orders = { salesFirst: 0, refundsFirst: 0 };
    for (const [round, pad] of [0, N / 2, N, 2 * N].entries()) {
      // Padding (other sales of the same month) moves when the first file reaches its checks.
      const a = file(`a-${round}.csv`, [...sales, ...Array.from({ length: pad }, (_, i) => sale(`pad-${round}-${i}`, 100, 10))]);
      const db = await freshPgDatabase(`race${round}`);
      const seeded = await seedLedger(db);
      await importFile(seeded, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
      await seeded.close();

      const [ra, rb] = await Promise.all(
        [a, b].map((f) => runCli(['ledger', 'import', 'sales', f, '--db', db, '--json', '--quiet'], { timeoutMs: 300_000 })),
      );
      expect(await overRefunded(db), `round ${round}`).toBe(0);
      expect(ra!.code, ra!.stderr).toBe(0);
      const stored = await rawQuery<{ kind: string; gross: number; n: number }>(
        db,
        `SELECT kind, gross_minor AS gross, count(*)::integer AS n FROM sales WHERE transaction_id LIKE 'x%' GROUP BY kind, gross_minor ORDER BY kind, gross_minor`,
      );
      if (rb!.code === 0) {
        // The refunding import ran first: its copies and refunds are stored, the sales skipped.
        orders.refundsFirst++;
        expect(rb!.json()).toMatchObject({ ok: true, imported: 2 * N, skipped: 0 });
        expect(ra!.json()).toMatchObject({ ok: true, imported: pad, skipped: N });
        expect(stored).toEqual([
          { kind: 'refund', gross: 800, n: N },
          { kind: 'sale', gross: 999, n: N },
        ]);
      } else {
        // The sales ran first: every refund exceeds the stored sale of 100; nothing of b is stored.
        orders.salesFirst++;
        expect(rb!.code, rb!.stderr).toBe(3);
        const error = rb!.json().error;
        expect(error.code).toBe('ROWS_INVALID');
        expect(error.details.badRows).toBe(N);
        const codes = new Set((error.details.rows as Array<{ code: string; row: number }>).map((r) => r.code));
        expect([...codes]).toEqual(['ROW_REFUND_EXCEEDS']);
        expect(error.details.rows[0]).toMatchObject({ row: N + 2, column: 'gross_minor' });
        expect(ra!.json()).toMatchObject({ ok: true, imported: N + pad, skipped: 0 });
        expect(stored).toEqual([{ kind: 'sale', gross: 100, n: N }]);
      }
    }
    expect(orders.salesFirst + orders.refundsFirst).toBe(4);
  }, 600_000);

  it('a refund import checks against the sales another import has inserted and not yet committed', async () => {
    const db = await freshPgDatabase('pinned');
    const seeded = await seedLedger(db);
    await importFile(seeded, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
    await importFile(seeded, 'sales', file('tpl.csv', [sale('tpl-1', 100, 10)]));
    await seeded.close();
    const database = new URL(db).pathname.slice(1);

    // In a sales import's place: the locks it holds at its INSERT, and x-0..x-9 inserted (gross 100), not committed.
    const { Client: PgClient } = require('pg') as typeof import('pg');
    const other: Client = new PgClient({ connectionString: db });
    await other.connect();
    let open = true;
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [LOCK_CLASS, WRITE_LOCK]);
      await other.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [LOCK_CLASS, SALES_LOCK]);
      const cols = (
        await other.query<{ c: string }>(
          `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'sales' AND table_schema = current_schema() ORDER BY ordinal_position`,
        )
      ).rows.map((r) => r.c);
      const list = cols.map((c) => `"${c}"`).join(', ');
      const values = cols.map((c) => (c === 'transaction_id' ? `'x-' || n` : `"${c}"`)).join(', ');
      await other.query(`INSERT INTO sales (${list}) SELECT ${values} FROM sales, generate_series(0, 9) n WHERE transaction_id = 'tpl-1'`);

      // The refunding import: its own copies of x-0..x-9 at 999, and refunds of 800.
      const b = file('pinned-b.csv', [
        ...Array.from({ length: 10 }, (_, i) => sale(`x-${i}`, 999, 90)),
        ...Array.from({ length: 10 }, (_, i) => refund(`xr-${i}`, `x-${i}`, 800, 80)),
      ]);
      let ended = false;
      const run = runCli(['ledger', 'import', 'sales', b, '--db', db, '--json', '--quiet'], { timeoutMs: 300_000 });
      void run.then(() => (ended = true));
      // Until it waits for a lock the other transaction holds (the sales lock; before the fix, x-0's row).
      for (;;) {
        // A fresh look at pg_stat_activity each time (inside a transaction it is read once).
        await other.query('SELECT pg_stat_clear_snapshot()');
        const r = await other.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND a.datname = $1 AND a.application_name = 'packops'`,
          [database],
        );
        if (r.rows[0]!.n > 0 || ended) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await other.query('COMMIT');
      open = false;
      const rb = await run;
      expect(await overRefunded(db)).toBe(0);
      expect(rb.code, rb.stderr).toBe(3);
      const error = rb.json().error;
      expect(error).toMatchObject({ code: 'ROWS_INVALID', details: { badRows: 10 } });
      expect(error.details.rows[0]).toMatchObject({ row: 12, column: 'gross_minor', code: 'ROW_REFUND_EXCEEDS' });
      expect((await rawQuery<{ n: number }>(db, `SELECT count(*)::int AS n FROM sales WHERE kind = 'refund'`))[0]!.n).toBe(0);
    } finally {
      if (open) await other.query('ROLLBACK');
      await other.end();
    }
  }, 300_000);
});
