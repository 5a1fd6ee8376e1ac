// The month-end procedure on the shipped fixtures, through the real commands: release the
// packs into a ledger, import creators, rates, sales and reviews, then tiers, report and
// close. The expected cents were worked out independently of packops (./oracle, applying §9
// to fixtures/ledger/*.csv with BigInt) and are written out below; the oracle also runs here.
// (Re-worked when the starter-bundle fixture sales moved to the demo price, 799.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/db.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { fixturesInput } from './oracle/fixtures-input.js';
import { computeUpTo } from './oracle/oracle.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;
const cli = (args: string[], env?: Record<string, string>) => runCli(args, { cwd: tmp.dir, env: { PACKOPS_DB: db, ...env } });

async function ok(args: string[], env?: Record<string, string>) {
  const r = await cli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`packops ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.json();
}

beforeAll(async () => {
  tmp = tempDir('packops-payouts-fixtures-');
  db = await ledgerAt(tmp.dir, 'packops.db');
  await ok(['keys', 'generate', '--unencrypted']);
  await ok(['creators', 'import', join(FIXTURES, 'ledger', 'creators.json')]);
  const packs = ['counting-garden', 'forest-scenes', 'ocean-creatures', 'winter-wonders'].map((p) => join(FIXTURES, 'packs', p));
  await ok(['release', ...packs, '--key', 'packops.key', '--out', 'dist', '--published-at', '2026-06-01T00:00:00Z'], { SOURCE_DATE_EPOCH: '1780272000' });
  // The starter bundle the sales file sells (the demo makes it with `bundles create`); written
  // through the ledger's schema so this test does not depend on the pricing commands.
  const ledger = await openLedger(db);
  await ledger.db
    .insertInto('bundles')
    .values({ slug: 'starter-bundle', name: 'Starter Bundle', kind: 'custom', season: null, price_minor: 899, currency: 'USD', individual_total_minor: 1197, discount: '0.25', charm: 1, savings_percent: '24.9', available_from: null, available_until: null, created_at: '2026-09-01T00:00:00.000Z' })
    .execute();
  await ledger.db
    .insertInto('bundle_items')
    .values([
      { bundle_slug: 'starter-bundle', pack_slug: 'ocean-creatures', price_minor: 499, position: 0 },
      { bundle_slug: 'starter-bundle', pack_slug: 'forest-scenes', price_minor: 399, position: 1 },
      { bundle_slug: 'starter-bundle', pack_slug: 'counting-garden', price_minor: 299, position: 2 },
    ])
    .execute();
  await ledger.close();
  for (const kind of ['rates', 'sales', 'reviews']) {
    const file = kind === 'sales' ? 'sales-2026-10.csv' : `${kind}.csv`;
    await ok(['ledger', 'import', kind, join(FIXTURES, 'ledger', file)]);
  }
}, 180_000);
afterAll(() => tmp?.cleanup());

describe('October 2026 on the fixtures', () => {
  it('creators tiers: everyone Bronze, Silver missed on packs and units', async () => {
    const t = await ok(['creators', 'tiers', '--period', '2026-10']);
    const ana = t.creators.find((c: any) => c.creator === 'ana-lima');
    expect(ana).toMatchObject({ tier: 'Bronze', sharePercent: '70.00', figures: { packsPublished: 3, ratingCount: 7, units: 20, monthsActive: 5 } });
    expect(ana.next).toEqual({
      tier: 'Silver',
      unmet: [
        { minimum: 'packs', required: '5', actual: '3' },
        { minimum: 'units', required: '50', actual: '20' },
      ],
    });
    expect(t.creators.map((c: any) => [c.creator, c.tier, c.figures.units])).toEqual([
      ['ana-lima', 'Bronze', 20],
      ['bo-chen', 'Bronze', 17],
      ['caro-diaz', 'Bronze', 11],
    ]);
  });

  it('payouts report matches the independent computation to the cent', async () => {
    const r = await ok(['payouts', 'report', '--period', '2026-10']);
    expect(r.tieOut).toEqual({ ok: true, netMinor: 7701, creatorShareMinor: 5390, platformShareMinor: 2311, bonusMinor: 0 });
    expect(r.owners.map((o: any) => [o.owner, o.netMinor, o.creatorShareMinor])).toEqual([
      ['ana-lima', 2642, 1849],
      ['bo-chen', 1337, 936],
      ['ocean-team', 3722, 2605],
    ]);
    expect(r.owners[2].splits.map((s: any) => s.shareMinor)).toEqual([1303, 781, 521]);
    expect(r.statements.map((s: any) => [s.creator, s.earningsMinor, s.payoutMinor, s.carriedOutMinor])).toEqual([
      ['ana-lima', 3152, 3152, 0],
      ['bo-chen', 1717, 1717, 0],
      ['caro-diaz', 521, 0, 521],
    ]);
    // And every figure of every statement, against the test oracle reading the same files.
    const want = computeUpTo(fixturesInput('2026-06-01T00:00:00Z'), '2026-10');
    expect(r.statements.map((s: any) => [s.creator, s.tier, s.figures.units, s.earningsMinor, s.bonusMinor, s.carriedInMinor, s.payoutMinor, s.carriedOutMinor])).toEqual(
      want.statements.map((s) => [s.creator, s.tier, s.figures.units, Number(s.earnings), Number(s.bonus), Number(s.carriedIn), Number(s.payout), Number(s.carriedOut)]),
    );
    expect(r.owners.map((o: any) => [o.owner, o.netMinor, o.creatorShareMinor])).toEqual(want.owners.map((o) => [o.owner, Number(o.net), Number(o.share)]));
  });

  it('close freezes October: the ledger then refuses October rows and the report stays', async () => {
    const before = await ok(['payouts', 'report', '--period', '2026-10']);
    const closed = await ok(['payouts', 'close', '--period', '2026-10']);
    expect(closed.statements).toEqual(before.statements);
    const lateFile = join(tmp.dir, 'late.csv');
    writeFileSync(
      lateFile,
      'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of\n' +
        'as-9999,2026-10-30T10:00:00Z,appstore,sale,ocean-creatures,US,USD,499,150,0,vpc-9999,fam-9999,\n',
    );
    const late = await cli(['ledger', 'import', 'sales', lateFile, '--json']);
    expect(late.code).toBe(4);
    expect(late.stdout).toContain('PERIOD_CLOSED');
    const after = await ok(['payouts', 'report', '--period', '2026-10']);
    expect(after).toEqual(closed);
  });
});
