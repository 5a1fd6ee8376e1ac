// A product name (pack slug, bundle slug, store product id) names one product, never two:
// catalog add and bundles create refuse a name that is already taken (exit 4), so no
// store's sales are credited to the wrong owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { workspace, type Workspace } from '../catalog/workspace.js';

let ws: Workspace;
const pub = 'keys/packops.pub';

function setStoreIds(pack: string, ids: Record<string, string>, version: string): void {
  const path = join(ws.dir, 'packs', pack, 'pack.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  manifest.storeProductIds = ids;
  manifest.version = version;
  writeFileSync(path, JSON.stringify(manifest, null, 2));
}

async function build(pack: string, version: string): Promise<string> {
  const r = await ws.run(['build', `packs/${pack}`, '--key', 'keys/packops.key', '--out', 'dist']);
  expect(r.code, r.stderr).toBe(0);
  return `dist/${pack}-${version}.zip`;
}

const registered = () => {
  const raw = new BetterSqlite3(join(ws.dir, 'packops.db'), { readonly: true });
  try {
    return raw.prepare('SELECT slug, version, appstore_product_id AS appstore, googleplay_product_id AS googleplay FROM packs ORDER BY slug, version').all();
  } finally {
    raw.close();
  }
};

beforeAll(async () => {
  ws = await workspace(['counting-garden', 'forest-scenes']);
  const zip = await build('counting-garden', '1.0.0'); // googleplay: pack_counting
  const r = await ws.run(['catalog', 'add', zip, '--pubkey', pub, '--published-at', '2026-09-01T00:00:00Z']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => ws.cleanup());

describe('catalog add refuses a pack whose names are taken', () => {
  const cases: Array<{ why: string; ids: Record<string, string>; name: string }> = [
    { why: "another pack's slug as its App Store id", ids: { appstore: 'counting-garden' }, name: 'counting-garden' },
    { why: "another pack's Google Play id", ids: { googleplay: 'pack_counting' }, name: 'pack_counting' },
    { why: "another pack's Google Play id as its web id", ids: { web: 'pack_counting' }, name: 'pack_counting' },
  ];
  cases.forEach((c, i) => {
    it(`${c.why}: PRODUCT_ID_CONFLICT (exit 4), nothing registered`, async () => {
      const version = `1.0.${i + 1}`;
      setStoreIds('forest-scenes', c.ids, version);
      const zip = await build('forest-scenes', version);
      const before = registered();
      const r = await ws.run(['catalog', 'add', zip, '--pubkey', pub, '--published-at', '2026-09-01T00:00:00Z', '--json']);
      expect(r.code, r.stderr).toBe(4);
      expect(r.json().error).toMatchObject({ code: 'PRODUCT_ID_CONFLICT', details: { slug: 'forest-scenes', name: c.name, claimedBy: [{ kind: 'pack', id: 'counting-garden' }] } });
      expect(registered()).toEqual(before);
    }, 60_000);
  });

  it('ids of its own are fine, and a bundle cannot take a registered store id or pack slug as its slug', async () => {
    setStoreIds('forest-scenes', { appstore: 'forest-deal', googleplay: 'pack_forest' }, '1.1.0');
    const zip = await build('forest-scenes', '1.1.0');
    const ok = await ws.run(['catalog', 'add', zip, '--pubkey', pub, '--published-at', '2026-09-01T00:00:00Z', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const taken = await ws.run(['bundles', 'create', 'forest-deal', '--name', 'Forest deal', '--packs', 'forest-scenes,counting-garden', '--discount', '0.2', '--json']);
    expect(taken.code, taken.stderr).toBe(4);
    expect(taken.json().error).toMatchObject({ code: 'PRODUCT_ID_CONFLICT', details: { name: 'forest-deal', claimedBy: [{ kind: 'pack', id: 'forest-scenes', as: 'appstore' }] } });
    const packSlug = await ws.run(['bundles', 'create', 'counting-garden', '--name', 'Garden', '--packs', 'forest-scenes,counting-garden', '--discount', '0.2', '--json']);
    expect(packSlug.code).toBe(4);
    expect(packSlug.json().error.code).toBe('BUNDLE_SLUG_TAKEN');
    const fine = await ws.run(['bundles', 'create', 'garden-and-forest', '--name', 'Garden and forest', '--packs', 'forest-scenes,counting-garden', '--discount', '0.2', '--json']);
    expect(fine.code, fine.stderr).toBe(0);
    // A pack cannot claim a bundle's slug as a store id either.
    setStoreIds('forest-scenes', { appstore: 'garden-and-forest' }, '1.2.0');
    const zip2 = await build('forest-scenes', '1.2.0');
    const r = await ws.run(['catalog', 'add', zip2, '--pubkey', pub, '--published-at', '2026-09-01T00:00:00Z', '--json']);
    expect(r.code).toBe(4);
    expect(r.json().error).toMatchObject({ code: 'PRODUCT_ID_CONFLICT', details: { claimedBy: [{ kind: 'bundle', id: 'garden-and-forest', as: 'slug' }] } });
  }, 120_000);
});
