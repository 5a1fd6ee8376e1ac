// The reviewer's money findings 1 and 6, through the built CLI on real signed archives:
// bundles and seasonal collections are priced from each pack's LIVE version (§8, §10: published
// by the day, not a pre-release), so the stored split weights (§9.3) are live prices; and a
// pack keeps one owner (§9.4): a version naming another creator is refused at release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { epochOf, workspace, type Workspace } from '../catalog/workspace.js';

let ws: Workspace;
const H = 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,consent_ref,family_ref,refund_of';

/** Rewrites the workspace copy of a pack's pack.json and releases it. */
async function release(slug: string, change: Record<string, unknown>, publishedAt: string) {
  const path = join(ws.dir, 'packs', slug, 'pack.json');
  const m = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...m, ...change, price: { ...m.price, ...((change.price as object) ?? {}) } }, null, 2));
  return ws.run(['release', `packs/${slug}`, '--key', 'keys/packops.key', '--published-at', publishedAt, '--json']);
}

const must = async (p: ReturnType<typeof release>) => {
  const r = await p;
  expect(r.code, r.stderr).toBe(0);
};

beforeAll(async () => {
  ws = await workspace(['ocean-creatures', 'forest-scenes']);
  await must(release('ocean-creatures', {}, '2026-09-01T00:00:00Z'));
  await must(release('forest-scenes', {}, '2026-09-01T00:00:00Z'));
  // A beta at 50 cents beside the release, and a release scheduled for March at 999.
  await must(release('forest-scenes', { version: '2.0.0-beta.1', price: { amountMinor: 50 } }, '2026-09-15T00:00:00Z'));
  await must(release('forest-scenes', { version: '1.1.0', price: { amountMinor: 999 } }, '2027-03-01T00:00:00Z'));
}, 300_000);
afterAll(() => ws.cleanup());

describe('bundle prices come from live versions (finding 1)', () => {
  it('bundles create on 2026-10-01 (SOURCE_DATE_EPOCH) stores 1.0.0\'s 399, not the beta\'s 50 or the scheduled 999', async () => {
    const r = await ws.run(['bundles', 'create', 'duo', '--name', 'Duo', '--packs', 'ocean-creatures,forest-scenes', '--discount', '0.10', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-10-01') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().bundle).toMatchObject({
      individualTotalMinor: 898, // 499 + 399 (the beta made it 549)
      priceMinor: 808, // 898 × 0.90 = 808.2
      items: [{ pack: 'ocean-creatures', priceMinor: 499 }, { pack: 'forest-scenes', priceMinor: 399 }],
    });
  });

  it('bundles seasonal autumn --today 2026-10-01 is priced 299 (399 × 0.75), not 38', async () => {
    const r = await ws.run(['bundles', 'seasonal', 'autumn', '--discount', '0.25', '--today', '2026-10-01', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().bundle).toMatchObject({ individualTotalMinor: 399, priceMinor: 299, items: [{ pack: 'forest-scenes', priceMinor: 399 }] });
  });

  it('a duo sale splits by the live prices stored with the bundle (499:399), as payouts report shows', async () => {
    writeFileSync(join(ws.dir, 'duo.csv'), `${H}\nd-1,2026-11-05T00:00:00Z,web,sale,duo,US,USD,494,0,0,vpc,fam-P,\n`);
    const imp = await ws.run(['ledger', 'import', 'sales', 'duo.csv', '--json']);
    expect(imp.code, imp.stderr).toBe(0);
    const r = await ws.run(['payouts', 'report', '--period', '2026-11', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (r.json().owners as Array<{ owner: string; lines: Array<{ pack: string; bundle: string | null; netUsdMinor: number }> }>).flatMap((o) =>
      o.lines.filter((l) => l.bundle === 'duo').map((l) => [o.owner, l.pack, l.netUsdMinor]),
    );
    // 494 × 499/898 = 274.505…, 494 × 399/898 = 219.494…: floors 274 + 219, the spare cent to
    // the larger remainder. With the beta's 50 it was 449 / 45.
    expect(lines).toEqual([
      ['ana-lima', 'forest-scenes', 219],
      ['ocean-team', 'ocean-creatures', 275],
    ]);
  });

  it('the scheduled version prices bundles from its day on', async () => {
    const r = await ws.run(['bundles', 'create', 'duo-spring', '--name', 'Duo', '--packs', 'ocean-creatures,forest-scenes', '--price', '1200', '--json'], { SOURCE_DATE_EPOCH: epochOf('2027-03-01') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().bundle).toMatchObject({ individualTotalMinor: 1498, items: [{ priceMinor: 499 }, { pack: 'forest-scenes', priceMinor: 999 }] });
  });

  it('a pack with no live version on the day is PACK_NOT_LIVE (exit 4) and no bundle is stored', async () => {
    const r = await ws.run(['bundles', 'create', 'too-early', '--name', 'Early', '--packs', 'ocean-creatures,forest-scenes', '--price', '500', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-08-31') });
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'PACK_NOT_LIVE' } });
    expect(r.json().error.message).toMatch(/No live version on 2026-08-31 to price from: ocean-creatures \(no version published yet, highest registered 1\.0\.0\), forest-scenes/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const list = await ws.run(['bundles', 'list', '--json']);
    expect(list.json().bundles.map((b: { slug: string }) => b.slug)).toEqual(['autumn-collection', 'duo', 'duo-spring']);
  });
});

describe('a pack keeps one owner (finding 6)', () => {
  it('release of ocean-creatures 1.1.0 naming bo-chen is PACK_OWNER_CHANGED (exit 4); October and November stay ocean-team\'s', async () => {
    const before = await ws.run(['payouts', 'report', '--period', '2026-11', '--json']);
    const r = await release('ocean-creatures', { version: '1.1.0', creator: 'bo-chen' }, '2026-10-20T00:00:00Z');
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe('PACK_OWNER_CHANGED');
    expect(r.json().error.message).toMatch(/ocean-creatures 1\.1\.0 names "bo-chen" as its creator, but ocean-creatures belongs to collaboration "ocean-team" \(registered 1\.0\.0\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Refused right after validation: no image encoded, no archive written.
    expect(r.stderr).not.toMatch(/ocean-creatures: (assets|build)/);
    expect(readdirSync(join(ws.dir, 'dist')).filter((f) => f.includes('1.1.0'))).toEqual(['forest-scenes-1.1.0.zip', 'forest-scenes-1.1.0.zip.minisig']);
    const after = await ws.run(['payouts', 'report', '--period', '2026-11', '--json']);
    expect(after.json().owners).toEqual(before.json().owners);
    // The same owner's new version is still welcome.
    const ok = await release('ocean-creatures', { version: '1.1.0', creator: 'ocean-team' }, '2026-10-20T00:00:00Z');
    expect(ok.code, ok.stderr).toBe(0);
  }, 120_000);
});
