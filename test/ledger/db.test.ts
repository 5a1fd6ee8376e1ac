import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { Migrator } from 'kysely';
import { openLedger, resolveLedgerLocation, appliedMigrations } from '../../src/ledger/db.js';
import { MIGRATIONS } from '../../src/ledger/migrations/index.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

describe('openLedger', () => {
  it('creates a new ledger with the roadmap tiers exactly, a 32-byte family secret, WAL and foreign keys', async () => {
    const path = join(tmp.dir, 'l.db');
    const ledger = await openLedger(path);
    expect(ledger.migrated).toEqual(Object.keys(MIGRATIONS));
    expect(ledger.migrated[0]).toBe('0001_initial');
    const tiers = await ledger.db.selectFrom('creator_tiers').selectAll().orderBy('rank').execute();
    expect(tiers.map((t) => [t.name, t.minimum_packs_published, t.minimum_average_rating, t.minimum_monthly_sales, t.minimum_months_active, t.revenue_share_percent, t.revenue_share_bp, t.monthly_bonus_threshold, t.monthly_bonus_minor])).toEqual([
      ['Bronze', 1, '4.00', 10, 1, '70.00', 7000, null, null],
      ['Silver', 5, '4.20', 50, 3, '72.50', 7250, 100, 5000],
      ['Gold', 15, '4.50', 150, 6, '75.00', 7500, 250, 15000],
      ['Platinum', 30, '4.70', 500, 12, '80.00', 8000, 500, 50000],
    ]);
    expect((await ledger.familySecret()).length).toBe(32);
    await ledger.close();
    const raw = new BetterSqlite3(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    // Opening again migrates nothing and keeps the secret.
    const again = await openLedger(path);
    expect(again.migrated).toEqual([]);
    expect(await appliedMigrations(again.db)).toEqual(Object.keys(MIGRATIONS).sort());
    await again.close();
  });

  it('finds the refunds of a sale through an index (a ledger made before it upgrades in order)', async () => {
    const path = join(tmp.dir, 'l.db');
    const current = await openLedger(path);
    // Back to the ledger as it was before 0101 (every later migration undone, newest first).
    const later = Object.keys(MIGRATIONS).filter((n) => n >= '0101_sales_refunds_index');
    await new Migrator({ db: current.db, provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) } }).migrateTo('0100_payouts_sales_index');
    await current.close();
    const upgraded = await openLedger(path);
    expect(upgraded.migrated).toEqual(later);
    await upgraded.close();
    const check = new BetterSqlite3(path, { readonly: true });
    // The shape of the import's cumulative-refund lookup: without the index it read every row of the store.
    const plan = check
      .prepare("EXPLAIN QUERY PLAN SELECT refund_of, sum(gross_minor) FROM sales WHERE kind = 'refund' AND store = ? AND refund_of IN (?, ?) GROUP BY refund_of")
      .all('appstore', 'a', 'b') as Array<{ detail: string }>;
    check.close();
    expect(plan.map((p) => p.detail).join('\n')).toContain('sales_refunds_idx (store=? AND refund_of=?)');
  });

  it('turns foreign keys on', async () => {
    const ledger = await openLedger(join(tmp.dir, 'l.db'));
    await expect(
      ledger.db.insertInto('collaborations').values({ id: 'team', name: 'T', lead_id: 'nobody', created_at: 'x', updated_at: 'x' }).execute(),
    ).rejects.toThrow(/FOREIGN KEY/);
    await ledger.close();
  });

  it('refuses a ledger whose migrations include one it does not know (LEDGER_TOO_NEW, exit 4)', async () => {
    const path = join(tmp.dir, 'l.db');
    await (await openLedger(path)).close();
    const raw = new BetterSqlite3(path);
    raw.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('0200_from_the_future', new Date().toISOString());
    raw.close();
    await expect(openLedger(path)).rejects.toMatchObject({ code: 'LEDGER_TOO_NEW', exitCode: 4 });
  });

  it('refuses a file that is not a ledger with an input error', async () => {
    const path = join(tmp.dir, 'notes.db');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, 'this is not sqlite at all, just some text padding'.repeat(20)));
    await expect(openLedger(path)).rejects.toMatchObject({ code: 'LEDGER_UNREADABLE', exitCode: 3 });
  });

  it('resolves paths, sqlite: and file: URLs to files; a postgres:// URL is not a file', () => {
    expect(resolveLedgerLocation('sqlite:data/l.db', '/srv')).toBe('/srv/data/l.db');
    expect(resolveLedgerLocation('l.db', '/srv')).toBe('/srv/l.db');
    expect(resolveLedgerLocation(pathToFileURL('/srv/x y.db').href)).toBe('/srv/x y.db');
    expect(() => resolveLedgerLocation('postgres://u@h/db')).toThrow(expect.objectContaining({ code: 'LEDGER_UNSUPPORTED', exitCode: 3 }));
  });
});
