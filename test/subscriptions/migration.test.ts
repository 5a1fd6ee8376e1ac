// Migration 0310 on a ledger that already holds usage: the rows survive the rebuild into a
// WITHOUT ROWID table, down restores the rowid table and the old index, and a rerun of up
// (a process killed after the commit, before Kysely recorded it) changes nothing.
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/db.js';
import * as m0310 from '../../src/ledger/migrations/0310_subscription_reads.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('packops-subs-migration-')));
afterEach(() => tmp.cleanup());

const ROWS = [
  { month: '2026-10', family_hmac: 'b'.repeat(64), pack_slug: 'ocean', active_days: 3, batch_id: 'x' },
  { month: '2026-10', family_hmac: 'a'.repeat(64), pack_slug: 'farm', active_days: 31, batch_id: 'x' },
  { month: '2026-09', family_hmac: 'a'.repeat(64), pack_slug: 'farm', active_days: 2, batch_id: 'y' },
];

describe('0310_subscription_reads', () => {
  it('keeps every usage row through down, up and a second up; the key stays unique', async () => {
    const path = join(tmp.dir, 'l.db');
    const ledger = await openLedger(path);
    const db = ledger.db;
    const schema = (name: string) => {
      const raw = new BetterSqlite3(path, { readonly: true });
      try {
        return (raw.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string } | undefined)?.sql;
      } finally {
        raw.close();
      }
    };
    const read = () => db.selectFrom('usage').selectAll().orderBy('month').orderBy('family_hmac').orderBy('pack_slug').execute();
    await m0310.down(db);
    expect(schema('usage')).not.toMatch(/without rowid/i);
    expect(schema('sales_plan_month_idx')).toBeDefined();
    await db.insertInto('usage').values(ROWS).execute();
    const before = await read();
    expect(before).toHaveLength(3);

    await m0310.up(db);
    expect(schema('usage')).toMatch(/without rowid/i);
    expect(schema('sales_plan_read_idx')).toBeDefined();
    expect(schema('sales_plan_month_idx')).toBeUndefined();
    expect(await read()).toEqual(before);
    await m0310.up(db);
    expect(await read()).toEqual(before);
    await expect(db.insertInto('usage').values(ROWS[0]!).execute()).rejects.toThrow(/UNIQUE/);
    await ledger.close();
  });
});
