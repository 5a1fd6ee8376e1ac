/**
 * packops release through the built CLI: the whole path for two packs, then again with
 * nothing changed (no image encoded, archives untouched, nothing registered twice), and
 * the ways it must stop: a pack with findings, a key pair that does not match, a changed
 * pack under an already registered version, a missing pack.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/db.js';
import { epochOf, workspace, type Workspace } from '../catalog/workspace.js';

let ws: Workspace;

async function registeredPacks(): Promise<Array<{ slug: string; version: string; archive_sha256: string }>> {
  const ledger = await openLedger(join(ws.dir, 'packops.db'));
  try {
    return await ledger.db.selectFrom('packs').select(['slug', 'version', 'archive_sha256']).orderBy('slug').execute();
  } finally {
    await ledger.close();
  }
}

beforeAll(async () => {
  ws = await workspace(['winter-wonders', 'ocean-creatures']);
}, 120_000);
afterAll(() => ws?.cleanup());

describe('packops release', () => {
  const zips = ['ocean-creatures-1.0.0.zip', 'winter-wonders-1.0.0.zip'];
  let first: any;

  it('validates, optimises, builds, verifies, registers and publishes each pack', async () => {
    const r = await ws.run(['release', 'packs/ocean-creatures', 'packs/winter-wonders', '--key', 'keys/packops.key', '--publish', 'site', '--json'], {
      SOURCE_DATE_EPOCH: epochOf('2026-11-26'),
    });
    expect(r.code, r.stderr).toBe(0);
    first = r.json();
    expect(first.ok).toBe(true);
    expect(first.packs).toHaveLength(2);
    for (const p of first.packs) {
      expect(p).toMatchObject({ ok: true, archive: { status: 'built' }, registration: { status: 'added' } });
      expect(p.assets.encoded).toBe(p.assets.variants);
      expect(p.archive.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(first.publish.packs).toEqual([
      { slug: 'ocean-creatures', version: '1.0.0' },
      { slug: 'winter-wonders', version: '1.0.0' },
    ]);
    for (const step of ['validate', 'assets', 'build', 'verify', 'register']) expect(r.stderr).toContain(`packs/ocean-creatures: ${step}`);
    expect(r.stderr).not.toContain('SecretKey');
    expect((await registeredPacks()).map((p) => p.slug)).toEqual(['ocean-creatures', 'winter-wonders']);
  });

  it('re-run with nothing changed encodes nothing, rewrites no archive and registers nothing', async () => {
    const before = zips.map((z) => statSync(join(ws.dir, 'dist', z)).mtimeMs);
    const ledgerBefore = await registeredPacks();
    const r = await ws.run(['release', 'packs/ocean-creatures', 'packs/winter-wonders', '--key', 'keys/packops.key', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const again = r.json();
    for (const [i, p] of again.packs.entries()) {
      expect(p).toMatchObject({ ok: true, archive: { status: 'unchanged', sha256: first.packs[i].archive.sha256 }, registration: { status: 'unchanged' } });
      expect(p.assets).toMatchObject({ encoded: 0, cached: p.assets.variants });
    }
    expect(zips.map((z) => statSync(join(ws.dir, 'dist', z)).mtimeMs)).toEqual(before);
    expect(await registeredPacks()).toEqual(ledgerBefore);
  });

  it('takes the key from PACKOPS_SECRET_KEY and an explicit matching --pubkey', async () => {
    const r = await ws.run(['release', 'packs/winter-wonders', '--pubkey', 'keys/packops.pub', '--json'], {
      PACKOPS_SECRET_KEY: readFileSync(join(ws.dir, 'keys', 'packops.key'), 'utf8'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().packs[0]).toMatchObject({ archive: { status: 'unchanged' }, registration: { status: 'unchanged' } });
  });

  it('refuses a public key that is not the signing key’s', async () => {
    const gen = await ws.run(['keys', 'generate', '--unencrypted', '--out', 'other-keys']);
    expect(gen.code).toBe(0);
    const r = await ws.run(['release', 'packs/winter-wonders', '--key', 'keys/packops.key', '--pubkey', 'other-keys/packops.pub', '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('KEY_MISMATCH');
  });

  it('stops at the first failing pack with its findings and attempts no later pack', async () => {
    const manifest = join(ws.dir, 'packs', 'winter-wonders', 'pack.json');
    const original = readFileSync(manifest, 'utf8');
    const broken = JSON.parse(original);
    broken.slug = 'winter-broken';
    broken.cover = 'no-such-asset';
    broken.storeProductIds = {};
    writeFileSync(manifest, JSON.stringify(broken, null, 2));
    try {
      const r = await ws.run(['release', 'packs/ocean-creatures', 'packs/winter-wonders', 'packs/ocean-creatures', '--key', 'keys/packops.key', '--json']);
      expect(r.code).toBe(1);
      const out = r.json();
      expect(out.ok).toBe(false);
      expect(out.packs[0]).toMatchObject({ ok: true, slug: 'ocean-creatures' });
      expect(out.packs[1]).toMatchObject({ ok: false, failedStep: 'validate', target: 'packs/winter-wonders' });
      expect(out.packs[1].findings.map((f: { code: string }) => f.code)).toContain('COVER_UNKNOWN');
      expect(out.notAttempted).toEqual(['packs/ocean-creatures']);
      expect(r.stderr).toContain('failed at validate');

      const gh = await ws.run(['release', 'packs/winter-wonders', '--key', 'keys/packops.key', '--format', 'github']);
      expect(gh.code).toBe(1);
      expect(gh.stdout).toMatch(/^::error file=packs\/winter-wonders\/pack\.json,line=\d+,col=\d+,title=COVER_UNKNOWN::/m);
      expect((await registeredPacks()).map((p) => p.slug)).not.toContain('winter-broken');
    } finally {
      writeFileSync(manifest, original);
    }
  });

  it('refuses to register a changed pack under a version already registered (exit 4)', async () => {
    const manifest = join(ws.dir, 'packs', 'winter-wonders', 'pack.json');
    const original = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, original.replace('"Winter Wonders"', '"Winter Wonders Deluxe"'));
    const before = await registeredPacks();
    try {
      const r = await ws.run(['release', 'packs/winter-wonders', '--key', 'keys/packops.key', '--out', 'dist-changed', '--json']);
      expect(r.code).toBe(4);
      expect(r.json().error).toMatchObject({ code: 'PACK_VERSION_CONFLICT', details: { target: expect.stringContaining('winter-wonders') } });
      expect(await registeredPacks()).toEqual(before);
    } finally {
      writeFileSync(manifest, original);
    }
  });

  it('refuses a missing pack or a zoneless --published-at before doing anything (exit 3)', async () => {
    const r = await ws.run(['release', 'packs/ocean-creatures', 'packs/nope', '--key', 'keys/packops.key', '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('PATH_NOT_FOUND');
    const when = await ws.run(['release', 'packs/ocean-creatures', '--key', 'keys/packops.key', '--published-at', '2026-09-01', '--json']);
    expect(when.code).toBe(3);
    expect(when.json().error.code).toBe('PUBLISHED_AT_INVALID');
    expect(when.stderr).not.toContain('validate');
    const noKey = await ws.run(['release', 'packs/ocean-creatures', '--json']);
    expect(noKey.code).toBe(2);
    expect(noKey.json().error.code).toBe('USAGE');
  });
});
