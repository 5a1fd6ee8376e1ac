/**
 * A pack's `.packops/out/assets.lock.json` is pack content (PRODUCT.md §5): the lock a run
 * reads back from the output folder decides nothing on its own. Through the built CLI:
 * - `assets` and `build` prune only files packops wrote there (its cache's record), never a
 *   file the lock names through a link, with `..`, an absolute path, a folder or a file
 *   packops did not write; a hostile lock is never a crash (exit 70);
 * - `preview --from variants` never reads a lock path that leaves the variants folder
 *   (VARIANT_PATH_UNSAFE), nor a lock behind a link (PATH_UNSAFE);
 * - a variant path that is a link out is replaced, never read through;
 * - a source named `..star.png` stays inside the pack for every command (finding 6).
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';
import { cutout, writeManifest } from './images.js';

const tmp = tempDir('packops-hostile-lock-');
afterAll(() => tmp.cleanup());
const KEY = join(tmp.dir, 'keys', 'packops.key');
const EPOCH = { SOURCE_DATE_EPOCH: '1767225600' };

beforeAll(async () => {
  const r = await runCli(['keys', 'generate', '--unencrypted', '--out', join(tmp.dir, 'keys')]);
  if (r.code !== 0) throw new Error(r.stderr);
});

const outOf = (pack: string) => join(pack, '.packops', 'out');

/** A lock as a hostile pack ships it: one asset whose variants are these paths. */
function plantLock(outDir: string, paths: unknown[], extra: unknown[] = []): void {
  mkdirSync(outDir, { recursive: true });
  const variants = paths.map((path) => ({ path, name: '512', format: 'webp', width: 512, height: 512, bytes: 1, sha256: '0'.repeat(64), placeholder: '' }));
  writeFileSync(join(outDir, 'assets.lock.json'), JSON.stringify({ version: 1, assets: [{ id: 'evil', source: 'x', sourceSha256: '0', variants }, ...extra] }));
}

/** A folder outside every pack holding a file that must survive. */
function victim(name: string): { dir: string; file: string } {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'important.txt');
  writeFileSync(file, 'precious\n');
  return { dir, file };
}

function copyPack(name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), dir, { recursive: true, filter: (s) => !s.endsWith('.packops') });
  return dir;
}

describe('pruning stale variants trusts no path from the lock in the output folder', () => {
  it('assets deletes nothing through a linked folder, an absolute path or .., and keeps files it did not write', async () => {
    const pack = join(tmp.dir, 'prune-link');
    await cutout(join(pack, 'assets/whale.png'));
    writeManifest(pack, [{ id: 'whale', file: 'assets/whale.png', type: 'sticker' }]);
    const v = victim('victim-assets');
    const out = outOf(pack);
    mkdirSync(join(out, 'assets', 'kept'), { recursive: true });
    symlinkSync(v.dir, join(out, 'assets', 'evil'));
    // A regular file in the output folder that packops never wrote, named by the lock.
    const planted = join(out, 'assets', 'kept', '512.webp');
    writeFileSync(planted, 'creator file\n');
    plantLock(out, ['assets/evil/important.txt', v.file, `../../../${v.dir.split('/').pop()}/important.txt`, 'assets/kept/512.webp']);

    const r = await runCli(['assets', pack, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(v.file, 'utf8')).toBe('precious\n');
    expect(readFileSync(planted, 'utf8')).toBe('creator file\n');
    // The run's own lock replaced the planted one.
    expect(readFileSync(join(out, 'assets.lock.json'), 'utf8')).not.toMatch(/evil/);
  });

  it('build deletes nothing through a linked folder either (exit 0, the victim file is still there)', async () => {
    const pack = copyPack('prune-build');
    const v = victim('victim-build');
    const out = outOf(pack);
    mkdirSync(join(out, 'assets'), { recursive: true });
    symlinkSync(v.dir, join(out, 'assets', 'evil'));
    plantLock(out, ['assets/evil/important.txt']);
    const r = await runCli(['build', pack, '--key', KEY, '--out', join(tmp.dir, 'dist-prune'), '--json'], { env: EPOCH });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(v.file, 'utf8')).toBe('precious\n');
  });

  it('a lock naming a folder, `..`, or holding junk entries is no crash (no exit 70), and the folders stay', async () => {
    const pack = join(tmp.dir, 'prune-dirs');
    await cutout(join(pack, 'assets/whale.png'));
    writeManifest(pack, [{ id: 'whale', file: 'assets/whale.png', type: 'sticker' }]);
    expect((await runCli(['assets', pack])).code).toBe(0);
    const out = outOf(pack);
    mkdirSync(join(out, 'assets', 'whale', 'sub.webp'), { recursive: true });
    plantLock(out, ['assets/whale/..', 'assets/whale/sub.webp', 'assets/whale/.', 'assets', null, 7], [null, 5, { id: 'x', variants: 3 }, { id: 'y', variants: [null, 1] }]);
    const r = await runCli(['assets', pack, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(readdirSync(join(out, 'assets', 'whale')).sort()).toEqual(['256.webp', '512.webp', '96.png', 'sub.webp']);
  });

  it('still removes the variants packops wrote for an asset that left the pack, with --no-cache too', async () => {
    const pack = join(tmp.dir, 'prune-own');
    await cutout(join(pack, 'assets/a.png'));
    await cutout(join(pack, 'assets/b.png'), 400);
    writeManifest(pack, [
      { id: 'a', file: 'assets/a.png', type: 'sticker' },
      { id: 'b', file: 'assets/b.png', type: 'sticker' },
    ]);
    expect((await runCli(['assets', pack, '--no-cache'])).code).toBe(0);
    expect(existsSync(join(outOf(pack), 'assets/b/512.webp'))).toBe(true);
    writeManifest(pack, [{ id: 'a', file: 'assets/a.png', type: 'sticker' }]);
    expect((await runCli(['assets', pack, '--no-cache'])).code).toBe(0);
    expect(existsSync(join(outOf(pack), 'assets/b'))).toBe(false);
    expect(existsSync(join(outOf(pack), 'assets/a/512.webp'))).toBe(true);
  });

  it('a variant path that is a link out of the output folder is replaced by the variant, never read through', async () => {
    const pack = join(tmp.dir, 'link-variant');
    await cutout(join(pack, 'assets/whale.png'));
    writeManifest(pack, [{ id: 'whale', file: 'assets/whale.png', type: 'sticker' }]);
    expect((await runCli(['assets', pack])).code).toBe(0);
    const variant = join(outOf(pack), 'assets', 'whale', '512.webp');
    // Outside the pack, a file holding exactly the variant's bytes; the output becomes a link to it.
    const outside = join(victim('victim-link').dir, 'same.webp');
    cpSync(variant, outside);
    rmSync(variant);
    symlinkSync(outside, variant);
    expect((await runCli(['assets', pack])).code).toBe(0);
    expect(lstatSync(variant).isFile()).toBe(true);
    expect(readFileSync(variant).equals(readFileSync(outside))).toBe(true);
  });
});

describe('preview --from variants reads no lock path that leaves the variants folder', () => {
  let pack: string;
  let secret: string;
  beforeAll(async () => {
    pack = join(tmp.dir, 'peek');
    await cutout(join(pack, 'assets/whale.png'));
    await cutout(join(pack, 'assets/crab.png'), 400, '#e74c3c');
    writeManifest(pack, [
      { id: 'whale', file: 'assets/whale.png', type: 'sticker' },
      { id: 'crab', file: 'assets/crab.png', type: 'sticker' },
    ]);
    secret = join(tmp.dir, 'private', 'holiday-photo.png');
    await cutout(secret, 512, '#123456');
  });

  const lockWith = (whalePath: string, crabPath = 'assets/crab/512.webp') =>
    JSON.stringify({
      version: 1,
      assets: [
        { id: 'whale', source: 'x', sourceSha256: '0', variants: [{ path: whalePath, name: '512', format: 'webp', width: 512, height: 512, bytes: 1, sha256: '0', placeholder: '' }] },
        { id: 'crab', source: 'x', sourceSha256: '0', variants: [{ path: crabPath, name: '512', format: 'webp', width: 400, height: 400, bytes: 1, sha256: '0', placeholder: '' }] },
      ],
    });

  it.each([
    ['..', () => '../../../private/holiday-photo.png'],
    ['an absolute path', (s: string) => s],
    ['a path through assets/<id>/..', () => 'assets/whale/../../../../../private/holiday-photo.png'],
  ])('refuses %s as VARIANT_PATH_UNSAFE and draws the other tiles (exit 1)', async (_what, pathOf) => {
    expect((await runCli(['assets', pack])).code).toBe(0);
    writeFileSync(join(outOf(pack), 'assets.lock.json'), lockWith(pathOf(secret)));
    const r = await runCli(['preview', pack, '--from', 'variants', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const body = r.json();
    expect(body.tiles[0]).toEqual({ id: 'whale', ok: false, code: 'VARIANT_PATH_UNSAFE' });
    expect(body.tiles[1]).toMatchObject({ id: 'crab', ok: true });
    expect(body.findings.map((f: { code: string }) => f.code)).toEqual(['VARIANT_PATH_UNSAFE']);
  });

  it('refuses a variant reached through a linked folder inside the variants folder', async () => {
    expect((await runCli(['assets', pack])).code).toBe(0);
    const linked = join(outOf(pack), 'assets', 'whale');
    rmSync(linked, { recursive: true });
    symlinkSync(join(tmp.dir, 'private'), linked);
    writeFileSync(join(outOf(pack), 'assets.lock.json'), lockWith('assets/whale/holiday-photo.webp'));
    cpSync(secret, join(tmp.dir, 'private', 'holiday-photo.webp'));
    const r = await runCli(['preview', pack, '--from', 'variants', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().tiles[0]).toEqual({ id: 'whale', ok: false, code: 'VARIANT_PATH_UNSAFE' });
    rmSync(linked);
  });

  it('reads no lock through a linked .packops (PATH_UNSAFE, exit 3)', async () => {
    const other = join(tmp.dir, 'peek-linked');
    await cutout(join(other, 'assets/whale.png'));
    writeManifest(other, [{ id: 'whale', file: 'assets/whale.png', type: 'sticker' }]);
    expect((await runCli(['assets', pack])).code).toBe(0);
    symlinkSync(join(pack, '.packops'), join(other, '.packops'));
    const r = await runCli(['preview', other, '--from', 'variants', '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.code).toBe('PATH_UNSAFE');
    // A --variants folder the user names may itself be a link (they typed it).
    const named = await runCli(['preview', other, '--from', 'variants', '--variants', join(other, '.packops', 'out'), '--output', join(tmp.dir, 'named.png'), '--json']);
    expect(named.code, named.stderr).toBe(0);
  });
});

describe('a source whose name starts with two dots stays inside the pack (finding 6)', () => {
  it('validate, assets, preview and build all accept ..star.png at the pack root', async () => {
    const pack = copyPack('dots');
    const manifest = JSON.parse(readFileSync(join(pack, 'pack.json'), 'utf8'));
    const first = manifest.assets[0];
    cpSync(join(pack, first.file), join(pack, '..star.png'));
    first.file = '..star.png';
    writeFileSync(join(pack, 'pack.json'), JSON.stringify(manifest, null, 2));

    const validate = await runCli(['validate', pack, '--json']);
    expect(validate.code, validate.stdout).toBe(0);
    const assets = await runCli(['assets', pack, '--json']);
    expect(assets.code, assets.stdout).toBe(0);
    const preview = await runCli(['preview', pack, '--json']);
    expect(preview.code, preview.stdout).toBe(0);
    expect(preview.json().tiles[0]).toMatchObject({ id: first.id, ok: true });
    const build = await runCli(['build', pack, '--key', KEY, '--out', join(tmp.dir, 'dist-dots'), '--json'], { env: EPOCH });
    expect(build.code, build.stdout + build.stderr).toBe(0);
  });
});
