// `packops ledger copy`: a SQLite ledger with released packs, bundles, sales, reviews, rates,
// a quarantine row and a closed month is copied into a new ledger (another SQLite file in
// the sqlite half, a PostgreSQL database in the postgres half) and back; every report read
// from the copy is byte-identical to the one read from the original.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { epochOf, workspace, type Workspace } from '../catalog/workspace.js';

let ws: Workspace;
let src: string;
let copy: string;
const NOV = epochOf('2026-11-26');

const on = (db: string, args: string[], env: Record<string, string | undefined> = {}) => ws.run([...args, '--db', db], env);
async function must(db: string, args: string[], env: Record<string, string | undefined> = {}) {
  const r = await on(db, args, env);
  if (r.code !== 0) throw new Error(`packops ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

beforeAll(async () => {
  ws = await workspace(['ocean-creatures', 'forest-scenes', 'counting-garden', 'winter-wonders']);
  src = join(ws.dir, 'source.db');
  const ledger = join(FIXTURES, 'ledger');
  await must(src, ['creators', 'import', join(ledger, 'creators.json')]);
  await must(src, ['release', ...ws.packs, '--key', 'keys/packops.key', '--published-at', '2026-06-01T00:00:00Z']);
  await must(src, ['bundles', 'create', 'starter-bundle', '--name', 'Starter Bundle', '--packs', 'ocean-creatures,forest-scenes,counting-garden', '--discount', '0.25', '--charm']);
  for (const [kind, file] of [['rates', 'rates.csv'], ['sales', 'sales-2026-10.csv'], ['reviews', 'reviews.csv']] as const) {
    await must(src, ['ledger', 'import', kind, join(ledger, file)]);
  }
  const header = readFileSync(join(ledger, 'sales-2026-10.csv'), 'utf8').split('\n')[0];
  writeFileSync(join(ws.dir, 'bad.csv'), `${header}\nbad-1,2026-10-09T10:00:00,web,sale,ocean-creatures,US,USD,499,15,0,vpc-1,fam-1,\n`);
  await must(src, ['ledger', 'import', 'sales', 'bad.csv', '--quarantine']);
  await must(src, ['payouts', 'close', '--period', '2026-10']);
  copy = await ledgerAt(ws.dir, 'copy.db');
}, 240_000);
afterAll(() => ws?.cleanup());

describe('packops ledger copy', () => {
  it('copies every table in one transaction, proves it with counts and digests, and refuses a target with rows', async () => {
    const r = await on(src, ['ledger', 'copy', src, copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, from: src, to: copy });
    const byTable = new Map<string, { rows: number; sha256: string }>(doc.tables.map((t: { table: string }) => [t.table, t]));
    for (const table of ['meta', 'creators', 'creator_tiers', 'collaborations', 'collaboration_members', 'packs', 'bundles', 'bundle_items', 'sales', 'reviews', 'fx_rates', 'import_batches', 'quarantine', 'closed_periods', 'statements']) {
      expect(byTable.get(table)?.sha256, table).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(byTable.get('sales')!.rows).toBe(25);
    expect(byTable.get('quarantine')!.rows).toBe(1);
    expect(byTable.get('closed_periods')!.rows).toBe(1);
    expect(byTable.get('statements')!.rows).toBeGreaterThan(0);
    // The family HMAC secret travels with the ledger (so later imports hash families alike).
    const secret = "SELECT value FROM meta WHERE key = 'family_hmac_secret'";
    expect(await rawQuery(copy, secret)).toEqual(await rawQuery(src, secret));

    const again = await on(src, ['ledger', 'copy', src, copy, '--json']);
    expect(again.code).toBe(4);
    expect(again.json().error.code).toBe('LEDGER_NOT_EMPTY');

    // And back again: the same digests, table by table.
    const back = join(ws.dir, 'back.db');
    const b = await on(src, ['ledger', 'copy', copy, back, '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json().tables).toEqual(doc.tables);
  }, 120_000);

  it('every report read from the copy is byte-identical to the original', async () => {
    const both = async (args: string[], env: Record<string, string | undefined> = {}) => {
      const a = await must(src, args, env);
      const c = await must(copy, args, env);
      expect(c.stdout, args.join(' ')).toBe(a.stdout);
      return a.stdout;
    };
    for (const period of ['2026-10', '2026-11']) {
      expect(await both(['payouts', 'report', '--period', period, '--json'])).toContain('"period"');
      await both(['payouts', 'report', '--period', period, '--format', 'md']);
      await both(['creators', 'tiers', '--period', period, '--json']);
    }
    await must(src, ['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', 'csv-a']);
    await must(copy, ['payouts', 'report', '--period', '2026-10', '--format', 'csv', '--out', 'csv-b']);
    const summary = 'payouts-2026-10-summary.csv';
    expect(readFileSync(join(ws.dir, 'csv-b', summary))).toEqual(readFileSync(join(ws.dir, 'csv-a', summary)));
    await both(['bundles', 'list', '--json']);
    await must(src, ['catalog', 'publish', '--out', 'site-a'], { SOURCE_DATE_EPOCH: NOV });
    await must(copy, ['catalog', 'publish', '--out', 'site-b'], { SOURCE_DATE_EPOCH: NOV });
    const feed = readFileSync(join(ws.dir, 'site-b', 'catalog.json'), 'utf8');
    expect(feed).toBe(readFileSync(join(ws.dir, 'site-a', 'catalog.json'), 'utf8'));
    expect(JSON.parse(feed).packs).toHaveLength(4);
  }, 240_000);

  it('a source without a ledger is PATH_NOT_FOUND; the same ledger twice is a usage error', async () => {
    const none = await on(src, ['ledger', 'copy', join(ws.dir, 'nothing.db'), join(ws.dir, 'x.db'), '--json']);
    expect(none.code).toBe(3);
    expect(none.json().error.code).toBe('PATH_NOT_FOUND');
    const same = await on(src, ['ledger', 'copy', src, src, '--json']);
    expect(same.code).toBe(2);
  });
});
