/**
 * The variant cache that assets, build and release trust is one packops wrote itself,
 * outside the pack. Through the built CLI:
 * - a poisoned cache shipped inside a pack's .packops/ (unreviewed art carrying GPS EXIF,
 *   under the key of the pack's own source) never reaches the archive: the build of the
 *   poisoned pack is byte-identical to the build of a clean copy;
 * - the cache lives in PACKOPS_CACHE_DIR / $XDG_CACHE_HOME/packops / ~/.cache/packops, or
 *   --cache-dir / the config's assets.cacheDir (flag > env > config > default);
 * - a damaged entry is detected and made again; two processes sharing the cache at once
 *   both succeed and leave whole entries;
 * - a symlinked .packops (or output folder, or a folder inside --out) is refused (exit 3)
 *   and nothing is written through it;
 * - `assets cache prune` removes by age and by size and reports counts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, sha256Hex } from '../../src/assets/cache.js';
import { encoderFingerprint, encoderOptions } from '../../src/assets/encode.js';
import { loadAssetRules } from '../../src/manifest/asset-rules.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-trusted-cache-');
afterAll(() => tmp.cleanup());
const KEY = join(tmp.dir, 'keys', 'packops.key');
const EPOCH = { SOURCE_DATE_EPOCH: '1767225600' };

function copyPack(name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), dir, { recursive: true, filter: (s) => !s.endsWith('.packops') });
  return dir;
}

const gpsTags = (file: string): string[] => {
  const r = spawnSync('exiftool', ['-j', '-G', file], { encoding: 'utf8' });
  return Object.keys((JSON.parse(r.stdout) as Array<Record<string, unknown>>)[0] ?? {}).filter((k) => /GPS/.test(k));
};

/** Unreviewed art with GPS coordinates in its EXIF. */
async function unreviewedArt(): Promise<Buffer> {
  return sharp({ create: { width: 512, height: 512, channels: 4, background: '#ff0000' } })
    .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' } })
    .webp()
    .toBuffer();
}

/** The cache entry packops <= 0.1 read from <pack>/.packops/cache for the whale, poisoned. */
async function poisonPackCache(pack: string): Promise<Buffer> {
  const rule = loadAssetRules().types.character;
  const source = sha256Hex(readFileSync(join(pack, 'assets', 'whale.png')));
  const key = cacheKey({
    source,
    variants: rule.variants.map((v) => ({ name: v.name, format: v.format, width: v.width, height: v.height, encoder: encoderOptions(v) })),
    encoder: encoderFingerprint(),
  });
  const evil = await unreviewedArt();
  const dir = join(pack, '.packops', 'cache', 'objects', key.slice(0, 2), key);
  mkdirSync(dir, { recursive: true });
  const variants = rule.variants.map((v) => {
    writeFileSync(join(dir, `${v.name}.${v.format}`), evil);
    return { name: v.name, format: v.format, width: 512, height: 512, bytes: evil.length, sha256: sha256Hex(evil), file: `${v.name}.${v.format}` };
  });
  const meta = { version: 1, key, placeholder: 'AAAA', variants };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  return evil;
}

beforeAll(async () => {
  const r = await runCli(['keys', 'generate', '--unencrypted', '--out', join(tmp.dir, 'keys')]);
  if (r.code !== 0) throw new Error(r.stderr);
});

describe('a cache inside the pack is never trusted', () => {
  it('a poisoned .packops/cache submitted with a pack does not reach the signed archive', async () => {
    const clean = copyPack('clean');
    const poisoned = copyPack('poisoned');
    const evil = await poisonPackCache(poisoned);
    writeFileSync(join(tmp.dir, 'evil.webp'), evil);
    expect(gpsTags(join(tmp.dir, 'evil.webp')).length).toBeGreaterThan(0);

    const a = await runCli(['build', clean, '--key', KEY, '--out', join(tmp.dir, 'dist-clean'), '--json'], { env: { ...EPOCH, PACKOPS_CACHE_DIR: join(tmp.dir, 'cache-a') } });
    expect(a.code, a.stderr).toBe(0);
    const b = await runCli(['build', poisoned, '--key', KEY, '--out', join(tmp.dir, 'dist-poisoned'), '--json'], { env: { ...EPOCH, PACKOPS_CACHE_DIR: join(tmp.dir, 'cache-b') } });
    expect(b.code, b.stderr).toBe(0);
    const zipA = readFileSync(join(tmp.dir, 'dist-clean', 'ocean-creatures-1.0.0.zip'));
    const zipB = readFileSync(join(tmp.dir, 'dist-poisoned', 'ocean-creatures-1.0.0.zip'));
    expect(zipB.includes(evil)).toBe(false);
    expect(zipB.equals(zipA)).toBe(true);
    // The pack's own cache folder is left as it came: never read, never written.
    expect(existsSync(join(tmp.dir, 'cache-b', 'v1', 'objects'))).toBe(true);
  });

  it('variants planted in the pack output folder are rewritten, and build takes its bytes from the cache', async () => {
    const pack = copyPack('planted');
    const env = { ...EPOCH, PACKOPS_CACHE_DIR: join(tmp.dir, 'cache-planted') };
    const first = await runCli(['assets', pack, '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const evil = await unreviewedArt();
    const target = join(pack, '.packops', 'out', 'assets', 'whale', '512.webp');
    writeFileSync(target, evil);
    const lockPath = join(pack, '.packops', 'out', 'assets.lock.json');
    const lock = readFileSync(lockPath, 'utf8');
    writeFileSync(lockPath, lock.replace(/("path": "assets\/whale\/512\.webp"[\s\S]*?"bytes": )\d+(,\s*"sha256": ")[0-9a-f]+/, `$1${evil.length}$2${sha256Hex(evil)}`));
    const b = await runCli(['build', pack, '--key', KEY, '--out', join(tmp.dir, 'dist-planted'), '--json'], { env });
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(tmp.dir, 'dist-planted', 'ocean-creatures-1.0.0.zip')).includes(evil)).toBe(false);
    expect(readFileSync(target).equals(evil)).toBe(false);
  });
});

describe('where the cache lives', () => {
  const objects = (root: string) => join(root, 'v1', 'objects');

  it('defaults to $XDG_CACHE_HOME/packops, else ~/.cache/packops; never the pack', async () => {
    const pack = copyPack('where');
    const xdg = join(tmp.dir, 'xdg');
    const r = await runCli(['assets', pack, '--json'], { env: { PACKOPS_CACHE_DIR: undefined, XDG_CACHE_HOME: xdg } });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(objects(join(xdg, 'packops'))).length).toBeGreaterThan(0);
    const home = join(tmp.dir, 'home');
    mkdirSync(home);
    const h = await runCli(['assets', pack, '--json'], { env: { PACKOPS_CACHE_DIR: undefined, XDG_CACHE_HOME: undefined, HOME: home } });
    expect(h.code, h.stderr).toBe(0);
    expect(readdirSync(objects(join(home, '.cache', 'packops'))).length).toBeGreaterThan(0);
    expect(readdirSync(join(pack, '.packops'))).toEqual(['out']);
  });

  it('takes --cache-dir over PACKOPS_CACHE_DIR over the config assets.cacheDir', async () => {
    const pack = copyPack('order');
    const cwd = join(tmp.dir, 'order-cwd');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'packops.config.json'), JSON.stringify({ assets: { cacheDir: 'from-config' } }));
    const run = (args: string[], env: Record<string, string | undefined>) => runCli(['assets', pack, ...args, '--json'], { cwd, env });
    expect((await run([], { PACKOPS_CACHE_DIR: undefined })).code).toBe(0);
    expect(existsSync(objects(join(cwd, 'from-config')))).toBe(true);
    expect((await run([], { PACKOPS_CACHE_DIR: join(cwd, 'from-env') })).code).toBe(0);
    expect(existsSync(objects(join(cwd, 'from-env')))).toBe(true);
    expect((await run(['--cache-dir', 'from-flag'], { PACKOPS_CACHE_DIR: join(cwd, 'from-env') })).code).toBe(0);
    expect(existsSync(objects(join(cwd, 'from-flag')))).toBe(true);

    writeFileSync(join(cwd, 'packops.config.json'), JSON.stringify({ assets: { cacheDir: 42 } }));
    const bad = await run([], { PACKOPS_CACHE_DIR: undefined });
    expect(bad.code).toBe(3);
    expect(bad.json().error).toMatchObject({ code: 'CONFIG_INVALID', details: { key: 'assets.cacheDir' } });
  });
});

describe('cache integrity and concurrency', () => {
  it('detects a damaged entry and makes it again', async () => {
    const pack = copyPack('damaged');
    const cache = join(tmp.dir, 'cache-damaged');
    const env = { PACKOPS_CACHE_DIR: cache };
    expect((await runCli(['assets', pack], { env })).code).toBe(0);
    const shard = readdirSync(join(cache, 'v1', 'objects'))[0]!;
    const entry = join(cache, 'v1', 'objects', shard, readdirSync(join(cache, 'v1', 'objects', shard))[0]!);
    const file = readdirSync(entry).find((f) => f !== 'meta.json')!;
    const bytes = readFileSync(join(entry, file));
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(join(entry, file), bytes);
    const again = await runCli(['assets', pack], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/15 variants from cache, 3 encoded/);
    const warm = await runCli(['assets', pack], { env });
    expect(warm.stderr).toMatch(/18 variants from cache, 0 encoded/);
  });

  it('two processes sharing one cache at once both succeed, with whole entries', async () => {
    const cache = join(tmp.dir, 'cache-shared');
    const packs = [copyPack('shared-1'), copyPack('shared-2'), copyPack('shared-3')];
    const runs = await Promise.all(packs.map((p) => runCli(['assets', p, '--concurrency', '1', '--json'], { env: { PACKOPS_CACHE_DIR: cache } })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const locks = packs.map((p) => readFileSync(join(p, '.packops', 'out', 'assets.lock.json'), 'utf8'));
    expect(new Set(locks).size).toBe(1);
    expect(readdirSync(join(cache, 'v1', 'tmp'))).toEqual([]);
    const warm = await runCli(['assets', packs[0]!], { env: { PACKOPS_CACHE_DIR: cache } });
    expect(warm.stderr).toMatch(/18 variants from cache, 0 encoded/);
  });
});

describe('symbolic links in the output path', () => {
  it('refuses a .packops that links out of the pack, and writes nothing there (exit 3)', async () => {
    const pack = copyPack('linked');
    const victim = join(tmp.dir, 'victim');
    mkdirSync(victim);
    symlinkSync(victim, join(pack, '.packops'));
    for (const args of [['assets', pack, '--json'], ['build', pack, '--key', KEY, '--out', join(tmp.dir, 'dist-linked'), '--json']]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
      expect(r.json().error.message).toMatch(/\.packops: it is a symbolic link/);
    }
    expect(readdirSync(victim)).toEqual([]);
  });

  it('refuses a linked .packops/out, and a linked folder inside --out', async () => {
    const pack = copyPack('linked-out');
    const victim = join(tmp.dir, 'victim-out');
    mkdirSync(victim);
    mkdirSync(join(pack, '.packops'));
    symlinkSync(victim, join(pack, '.packops', 'out'));
    const r = await runCli(['assets', pack, '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
    rmSync(join(pack, '.packops'), { recursive: true });

    const out = join(tmp.dir, 'user-out');
    mkdirSync(join(out, 'assets'), { recursive: true });
    symlinkSync(victim, join(out, 'assets', 'whale'));
    const o = await runCli(['assets', pack, '--out', out, '--json']);
    expect(o.code).toBe(3);
    expect(o.json().error.code).toBe('OUTPUT_UNWRITABLE');
    expect(readdirSync(victim)).toEqual([]);

    // The folder the user named may itself be a link: they pointed there.
    const real = join(tmp.dir, 'real-out');
    mkdirSync(real);
    symlinkSync(real, join(tmp.dir, 'named-link'));
    const ok = await runCli(['assets', pack, '--out', join(tmp.dir, 'named-link'), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(real, 'assets.lock.json'))).toBe(true);
  });
});

describe('packops assets cache prune', () => {
  it('removes entries by age, then by size, and reports counts (--json)', async () => {
    const cache = join(tmp.dir, 'cache-prune');
    const env = { PACKOPS_CACHE_DIR: cache };
    expect((await runCli(['assets', copyPack('prune')], { env })).code).toBe(0);
    const root = join(cache, 'v1', 'objects');
    const entries = readdirSync(root).flatMap((s) => readdirSync(join(root, s)).map((k) => join(root, s, k)));
    expect(entries).toHaveLength(6);
    const size = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const total = entries.reduce((n, e) => n + size(e), 0);
    // Two entries were last used 40 days ago.
    const old = new Date(Date.now() - 40 * 86_400_000);
    for (const e of entries.slice(0, 2)) utimesSync(join(e, 'meta.json'), old, old);
    const oldBytes = size(entries[0]!) + size(entries[1]!);

    const none = await runCli(['assets', 'cache', 'prune', '--json'], { env });
    expect(none.code).toBe(2);

    const byAge = await runCli(['assets', 'cache', 'prune', '--older-than', '30', '--json'], { env });
    expect(byAge.code, byAge.stderr).toBe(0);
    expect(byAge.json()).toMatchObject({ ok: true, cacheDir: cache, removed: { entries: 2, bytes: oldBytes }, kept: { entries: 4, bytes: total - oldBytes } });
    expect(entries.slice(0, 2).some((e) => existsSync(e))).toBe(false);

    const bySize = await runCli(['assets', 'cache', 'prune', '--max-size', String((total - oldBytes) / 2 / 1e6), '--cache-dir', cache, '--json'], { env: { PACKOPS_CACHE_DIR: undefined } });
    expect(bySize.code, bySize.stderr).toBe(0);
    const counts = bySize.json();
    expect(counts.removed.entries + counts.kept.entries).toBe(4);
    expect(counts.kept.bytes).toBeLessThanOrEqual((total - oldBytes) / 2);
    expect(counts.removed.bytes + counts.kept.bytes).toBe(total - oldBytes);

    const pretty = await runCli(['assets', 'cache', 'prune', '--max-size', '0'], { env });
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(/removed \d+ entries .*, kept 0/);
    expect(readdirSync(root).flatMap((s) => readdirSync(join(root, s)))).toEqual([]);
  });
});
