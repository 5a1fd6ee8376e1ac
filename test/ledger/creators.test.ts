import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { openLedger, type Ledger } from '../../src/ledger/db.js';
import { importCreators } from '../../src/ledger/creators.js';
import { registerPack, registerPacks } from '../../src/ledger/catalog.js';
import { fixtureManifest, LEDGER_FIXTURES, refusal } from './seed.js';

let tmp: ReturnType<typeof tempDir>;
let ledger: Ledger;
beforeEach(async () => {
  tmp = tempDir();
  ledger = await openLedger(await ledgerAt(tmp.dir, 'l.db'));
});
afterEach(async () => {
  await ledger.close();
  tmp.cleanup();
});

function file(value: unknown): string {
  const path = join(tmp.dir, `c-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

const creators = [
  { id: 'ana-lima', name: 'Ana Lima', payoutRef: 'acct-001' },
  { id: 'bo-chen', name: 'Bo Chen', payoutRef: 'acct-002' },
  { id: 'caro-diaz', name: 'Caro Díaz', payoutRef: 'acct-003' },
];
const team = (members: Array<[string, string]>, lead = 'ana-lima') => ({
  creators,
  collaborations: [{ id: 'ocean-team', name: 'Ocean Team', lead, members: members.map(([creator, sharePercent]) => ({ creator, sharePercent })) }],
});

async function problems(value: unknown) {
  const err = await refusal<{ code: string; exitCode: number; details: { problems: Array<{ code: string; pointer: string }> } }>(importCreators(ledger, file(value)));
  expect(err).toMatchObject({ code: 'CREATORS_INVALID', exitCode: 3 });
  return err.details.problems.map((p) => [p.code, p.pointer]);
}

describe('creators import', () => {
  it('imports the fixture with shares in basis points; re-import updates and never duplicates', async () => {
    const r = await importCreators(ledger, join(LEDGER_FIXTURES, 'creators.json'));
    expect(r).toMatchObject({ creators: { added: 3 }, collaborations: { added: 1 } });
    const members = await ledger.db.selectFrom('collaboration_members').selectAll().orderBy('creator_id').execute();
    expect(members.map((m) => [m.creator_id, m.share_bp, m.share_percent])).toEqual([
      ['ana-lima', 5000, '50.00'],
      ['bo-chen', 3000, '30.00'],
      ['caro-diaz', 2000, '20.00'],
    ]);
    expect(await importCreators(ledger, join(LEDGER_FIXTURES, 'creators.json'))).toMatchObject({
      creators: { added: 0, updated: 0, unchanged: 3 },
      collaborations: { unchanged: 1 },
    });
    const changed = team([['ana-lima', '33.34'], ['bo-chen', '33.33'], ['caro-diaz', '33.33']]);
    changed.creators = [{ id: 'ana-lima', name: 'Ana Lima-Souza', payoutRef: 'acct-001' }, ...creators.slice(1)];
    expect(await importCreators(ledger, file(changed))).toMatchObject({ creators: { updated: 1 }, collaborations: { updated: 1 } });
    expect((await ledger.db.selectFrom('creators').selectAll().execute()).length).toBe(3);
    const bp = await ledger.db.selectFrom('collaboration_members').select('share_bp').execute();
    expect(bp.map((m) => m.share_bp).sort()).toEqual([3333, 3333, 3334]);
  });

  it('requires shares summing to exactly 100 with at most two decimals', async () => {
    expect(await problems(team([['ana-lima', '33.33'], ['bo-chen', '33.33'], ['caro-diaz', '33.33']]))).toEqual([['SHARES', '/collaborations/0/members']]);
    expect(await problems(team([['ana-lima', '50.005'], ['bo-chen', '49.995']]))).toEqual([
      ['SCHEMA', '/collaborations/0/members/0/sharePercent'],
      ['SCHEMA', '/collaborations/0/members/1/sharePercent'],
    ]);
    expect(await problems(team([['ana-lima', 50 as unknown as string], ['bo-chen', '50']]))).toEqual([['SCHEMA', '/collaborations/0/members/0/sharePercent']]);
  });

  it('requires the lead to be a member and members to be creators; unknown fields are errors', async () => {
    expect(await problems(team([['bo-chen', '50'], ['caro-diaz', '50']]))).toEqual([['LEAD_NOT_MEMBER', '/collaborations/0/lead']]);
    expect(await problems(team([['ana-lima', '50'], ['dan-ng', '50']]))).toEqual([['MEMBER_UNKNOWN', '/collaborations/0/members/1/creator']]);
    expect(await problems({ creators, __proto__x: 1 })).toEqual([['SCHEMA', '/']]);
    expect(await problems('{"creators": [], "__proto__": {"polluted": true}}')).toEqual([['SCHEMA', '/']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await problems({ creators: [...creators, creators[0]] })).toEqual([['ID_DUPLICATE', '/creators/3/id']]);
  });

  it('writes nothing when any problem is found', async () => {
    await problems(team([['ana-lima', '60'], ['bo-chen', '30']]));
    expect(await ledger.db.selectFrom('creators').selectAll().execute()).toEqual([]);
  });
});

describe('registerPack', () => {
  const input = (slug: string, sha = 'a'.repeat(64)) => ({ manifest: fixtureManifest(slug), sha256: sha, bytes: 10, archivePath: `/a/${slug}.zip`, publishedAt: '2026-09-01T10:00:00+02:00' });

  it('registers with its owner (creator or collaboration); same archive is a no-op; another archive is PACK_VERSION_CONFLICT', async () => {
    await expect(registerPack(ledger, input('ocean-creatures'))).rejects.toMatchObject({ code: 'OWNER_UNKNOWN', exitCode: 3 });
    await importCreators(ledger, join(LEDGER_FIXTURES, 'creators.json'));
    expect(await registerPack(ledger, input('ocean-creatures'))).toMatchObject({ status: 'added', owner: { id: 'ocean-team', kind: 'collaboration' }, publishedAt: '2026-09-01T08:00:00.000Z' });
    expect(await registerPack(ledger, input('forest-scenes'))).toMatchObject({ status: 'added', owner: { id: 'ana-lima', kind: 'creator' } });
    expect(await registerPack(ledger, input('ocean-creatures'))).toMatchObject({ status: 'unchanged' });
    await expect(registerPack(ledger, input('ocean-creatures', 'b'.repeat(64)))).rejects.toMatchObject({ code: 'PACK_VERSION_CONFLICT', exitCode: 4 });
    const row = await ledger.db.selectFrom('packs').selectAll().where('slug', '=', 'ocean-creatures').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ price_minor: 499, currency: 'USD', appstore_product_id: 'com.wondernest.pack.ocean', googleplay_product_id: 'pack_ocean', available_from: '2026-06-01', available_until: null });
    expect(JSON.parse(row.markets)).toEqual({ GB: { currency: 'GBP', amountMinor: 449 }, JP: { currency: 'JPY', amountMinor: 750 } });
  });
  it('refuses a version that names another owner (PACK_OWNER_CHANGED, exit 4): a pack keeps one creator or collaboration', async () => {
    await importCreators(ledger, join(LEDGER_FIXTURES, 'creators.json'));
    expect(await registerPack(ledger, input('ocean-creatures'))).toMatchObject({ status: 'added' });
    const v = (version: string, creator: string, sha: string) => ({ ...input('ocean-creatures', sha.repeat(64)), manifest: { ...fixtureManifest('ocean-creatures'), version, creator } });
    // The same owner publishes a new version.
    expect(await registerPack(ledger, v('1.1.0', 'ocean-team', 'c'))).toMatchObject({ status: 'added', owner: { id: 'ocean-team', kind: 'collaboration' } });
    // A member of the collaboration (and a stranger) cannot take it over.
    for (const creator of ['bo-chen', 'ana-lima']) {
      const err = await refusal<{ code: string; exitCode: number; message: string; hint: string; details: unknown }>(registerPack(ledger, v('1.2.0', creator, 'd')));
      expect(err).toMatchObject({ code: 'PACK_OWNER_CHANGED', exitCode: 4 });
      expect(err.message).toBe(`ocean-creatures 1.2.0 names "${creator}" as its creator, but ocean-creatures belongs to collaboration "ocean-team" (registered 1.0.0, 1.1.0); a pack keeps one owner.`);
      expect(err.hint).toMatch(/Keep "creator": "ocean-team" in pack.json, or publish the pack under a new slug/);
      expect(err.details).toMatchObject({ owner: { id: 'ocean-team', kind: 'collaboration' }, creator, ownerVersions: ['1.0.0', '1.1.0'] });
    }
    // One batch: the second archive conflicts with the first, so neither is registered.
    const fs = { ...input('forest-scenes'), manifest: { ...fixtureManifest('forest-scenes'), version: '1.0.0' } };
    const taken = { ...fs, sha256: 'e'.repeat(64), manifest: { ...fs.manifest, version: '1.0.1', creator: 'bo-chen' } };
    await expect(registerPacks(ledger, [fs, taken])).rejects.toMatchObject({ code: 'PACK_OWNER_CHANGED' });
    const rows = await ledger.db.selectFrom('packs').select(['slug', 'version', 'owner_id']).orderBy('slug').orderBy('version').execute();
    expect(rows).toEqual([
      { slug: 'ocean-creatures', version: '1.0.0', owner_id: 'ocean-team' },
      { slug: 'ocean-creatures', version: '1.1.0', owner_id: 'ocean-team' },
    ]);
  });
});
