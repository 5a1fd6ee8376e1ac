// PostgreSQL driver: BIGINT money read back exactly (and refused past 2^53, never rounded),
// columns typed BIGINT / TEXT COLLATE "C" by the shared migrations, and the command runner
// retrying a serialization failure or deadlock before giving up with LEDGER_BUSY.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../src/ledger/db.js';
import { withLedger } from '../../src/cli/ledger.js';
import type { CliContext } from '../../src/cli/context.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { freshPgDatabase, rawQuery } from '../helpers/ledgers.js';
import { addToLedger, STORY, writeLedger } from '../payouts/ledger-fixture.js';

let db: string;
let ledger: Ledger;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  tmp = tempDir('packops-pg-driver-');
  db = await freshPgDatabase('driver');
  ledger = await writeLedger(db, STORY);
});
afterAll(async () => {
  await ledger?.close();
  tmp.cleanup();
});

describe('PostgreSQL driver', () => {
  it('stores money as BIGINT and text with the C collation, through the same migrations', async () => {
    const cols = await rawQuery<{ table_name: string; column_name: string; data_type: string; collation_name: string | null }>(
      db,
      "SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('sales', 'statements', 'packs')",
    );
    const type = (t: string, c: string) => cols.find((x) => x.table_name === t && x.column_name === c);
    expect(type('sales', 'gross_minor')).toMatchObject({ data_type: 'bigint' });
    expect(type('statements', 'payout_minor')).toMatchObject({ data_type: 'bigint' });
    expect(type('packs', 'price_minor')).toMatchObject({ data_type: 'bigint' });
    expect(type('sales', 'transaction_id')).toMatchObject({ data_type: 'text', collation_name: 'C' });
  });

  it('reads 2^53 − 1 back exactly; a larger stored value is an error, never a rounded number', async () => {
    await addToLedger(ledger, { sales: [{ id: 'big-1', at: '2026-12-01T00:00:00Z', product: 'forest-scenes', gross: Number.MAX_SAFE_INTEGER }] });
    const row = await ledger.db.selectFrom('sales').select('gross_minor').where('transaction_id', '=', 'big-1').executeTakeFirstOrThrow();
    expect(row.gross_minor).toBe(9007199254740991);
    expect(typeof row.gross_minor).toBe('number');
    const n = await ledger.db.selectFrom('sales').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(typeof n.n).toBe('number');

    await rawQuery(db, "UPDATE sales SET gross_minor = 9007199254740993 WHERE transaction_id = 'big-1'");
    await expect(ledger.db.selectFrom('sales').select('gross_minor').where('transaction_id', '=', 'big-1').execute()).rejects.toThrow(/9007199254740993/);
    const r = await runCli(['payouts', 'report', '--period', '2026-12', '--db', db, '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.code).toBe('LEDGER_UNREADABLE');
    await rawQuery(db, "DELETE FROM sales WHERE transaction_id = 'big-1'");
  });

  it('runs a command again after a serialization failure or deadlock, then gives up with LEDGER_BUSY (exit 4)', async () => {
    const ctx = { global: { db }, cwd: tmp.dir } as unknown as CliContext;
    const fail = (code: string) => Object.assign(new Error(code === '40001' ? 'could not serialize access due to concurrent update' : 'deadlock detected'), { code });
    let calls = 0;
    const value = await withLedger(ctx, async (l) => {
      calls++;
      if (calls < 3) throw fail(calls === 1 ? '40001' : '40P01');
      return (await l.db.selectFrom('creators').select('id').execute()).length;
    });
    expect(value).toBe(3);
    expect(calls).toBe(3);

    calls = 0;
    const err = await withLedger(ctx, async () => {
      calls++;
      throw fail('40P01');
    }).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toMatchObject({ code: 'LEDGER_BUSY', exitCode: 4 });
  });

  it('a second opener of a new database waits for the first one\'s migrations', async () => {
    const fresh = await freshPgDatabase('twice');
    const both = await Promise.all([openLedger(fresh), openLedger(fresh), openLedger(fresh)]);
    expect(both.map((l) => l.migrated.length).sort()).toEqual([0, 0, both.find((l) => l.migrated.length > 0)!.migrated.length]);
    for (const l of both) await l.close();
    expect(await rawQuery(fresh, 'SELECT count(*) AS n FROM creator_tiers')).toEqual([{ n: 4 }]);
  });
  it('a lost connection fails the pending cursor read and the next query, and the cursor closes (nothing left unsettled)', async () => {
    const own = await openLedger(db);
    try {
      const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(own.db)).rows[0]!.pid;
      const rows = own.db
        .selectFrom(sql<{ n: number }>`generate_series(1, 100000)`.as('g'))
        .select(sql<number>`g`.as('n'))
        .stream(100);
      const seen: number[] = [];
      // Settles one way or the other: a read that never settles would time the test out.
      const outcome = await (async () => {
        for await (const row of rows) {
          seen.push(row.n);
          if (seen.length === 100) await rawQuery(db, 'SELECT pg_terminate_backend(?)', [pid]);
        }
        return 'finished';
      })().catch((e: unknown) => e);
      expect(seen).toHaveLength(100);
      expect(outcome).toBeInstanceOf(Error);
      expect(own.mapError(outcome)).toMatchObject({ code: 'LEDGER_UNREACHABLE', exitCode: 3 });
      const next = await own.db.selectFrom('creators').select('id').execute().catch((e: unknown) => e);
      expect(own.mapError(next)).toMatchObject({ code: 'LEDGER_UNREACHABLE' });
    } finally {
      await own.close();
    }
  });
  it('text the server cannot store (SQLSTATE 22021, 22P05) is LEDGER_TEXT_INVALID (exit 3), never an internal error', async () => {
    const { mapPostgresError } = await import('../../src/ledger/pg.js');
    const { parsePostgresUrl } = await import('../../src/ledger/location.js');
    const loc = parsePostgresUrl(db, {});
    const stored = await ledger.db
      .insertInto('creators')
      .values({ id: 'nul-direct', name: 'A\u0000B', payout_ref: null, created_at: '2026-10-01T00:00:00Z', updated_at: '2026-10-01T00:00:00Z' })
      .execute()
      .catch((e: unknown) => e);
    expect(mapPostgresError(stored, loc)).toMatchObject({ code: 'LEDGER_TEXT_INVALID', exitCode: 3, details: { sqlstate: '22021' } });
    const untranslatable = Object.assign(new Error('character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"'), { code: '22P05' });
    expect(mapPostgresError(untranslatable, loc)).toMatchObject({ code: 'LEDGER_TEXT_INVALID', exitCode: 3, details: { sqlstate: '22P05' } });
  });
});
