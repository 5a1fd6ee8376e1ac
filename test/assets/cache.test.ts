import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssetCache, cacheKey, sha256Hex, type CacheEntryMeta } from '../../src/assets/cache.js';
import { serializeLock, sortLock } from '../../src/assets/lock.js';
import type { AssetsLock, LockVariant } from '../../src/manifest/types.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('packops-cache-');
});
afterEach(() => tmp.cleanup());

function entry(key: string, bytes: Buffer): CacheEntryMeta {
  return {
    version: 1,
    key,
    placeholder: 'AAAA',
    variants: [{ name: '512', format: 'webp', width: 512, height: 512, bytes: bytes.length, sha256: sha256Hex(bytes), file: '512.webp' }],
  };
}

describe('cacheKey', () => {
  it('does not depend on key order and changes with any setting', () => {
    const a = cacheKey({ source: 'abc', variants: [{ name: '512', quality: 80 }], encoder: { sharp: '1', vips: '2' } });
    const b = cacheKey({ encoder: { vips: '2', sharp: '1' }, variants: [{ quality: 80, name: '512' }], source: 'abc' });
    expect(a).toBe(b);
    expect(cacheKey({ source: 'abc', variants: [{ name: '512', quality: 81 }], encoder: { sharp: '1', vips: '2' } })).not.toBe(a);
    expect(cacheKey({ source: 'abc', variants: [{ name: '512', quality: 80 }], encoder: { sharp: '1', vips: '3' } })).not.toBe(a);
  });
});

describe('AssetCache', () => {
  it('stores and restores an entry, and treats a damaged entry as a miss', async () => {
    const bytes = Buffer.from('webp bytes');
    const key = 'ab'.repeat(32);
    const cache = await AssetCache.open(join(tmp.dir, 'cache'), { read: true });
    expect(await cache.get(key)).toBeUndefined();
    await cache.put(entry(key, bytes), new Map([['512', bytes]]));
    const hit = await cache.get(key);
    expect(hit?.data.get('512')?.equals(bytes)).toBe(true);

    const entryDir = join(tmp.dir, 'cache', 'v1', 'objects', 'ab', key);
    writeFileSync(join(entryDir, '512.webp'), 'webp bytez');
    expect(await cache.get(key)).toBeUndefined();
    // The damaged entry was moved aside, so the next store makes it again.
    expect(existsSync(entryDir)).toBe(false);
    expect(await cache.put(entry(key, bytes), new Map([['512', bytes]]))).toEqual(new Map([['512', join(entryDir, '512.webp')]]));
    expect((await cache.get(key))?.data.get('512')?.equals(bytes)).toBe(true);
  });

  it('detects a meta.json edited to match other bytes (its own SHA-256 is recorded)', async () => {
    const bytes = Buffer.from('honest');
    const key = 'ef'.repeat(32);
    const cache = await AssetCache.open(join(tmp.dir, 'cache'), { read: true });
    await cache.put(entry(key, bytes), new Map([['512', bytes]]));
    const metaPath = join(tmp.dir, 'cache', 'v1', 'objects', 'ef', key, 'meta.json');
    const doc = JSON.parse(readFileSync(metaPath, 'utf8'));
    const evil = Buffer.from('unreviewed');
    doc.meta.variants[0] = { ...doc.meta.variants[0], bytes: evil.length, sha256: sha256Hex(evil) };
    writeFileSync(metaPath, JSON.stringify(doc));
    writeFileSync(join(tmp.dir, 'cache', 'v1', 'objects', 'ef', key, '512.webp'), evil);
    expect(await cache.get(key)).toBeUndefined();
  });

  it('keeps the first of two stores of one key whole (entries are immutable)', async () => {
    const key = '12'.repeat(32);
    const a = await AssetCache.open(join(tmp.dir, 'cache'), { read: true });
    const b = await AssetCache.open(join(tmp.dir, 'cache'), { read: true });
    const one = Buffer.from('one');
    const two = Buffer.from('two!');
    await Promise.all([a.put(entry(key, one), new Map([['512', one]])), b.put(entry(key, two), new Map([['512', two]]))]);
    const hit = await a.get(key);
    expect(hit?.data.get('512')?.equals(one)).toBe(true);
    expect(readdirSync(join(tmp.dir, 'cache', 'v1', 'tmp'))).toEqual([]);
  });

  it('is off, not fatal, when its folder cannot be made', async () => {
    writeFileSync(join(tmp.dir, 'a-file'), 'x');
    const cache = await AssetCache.open(join(tmp.dir, 'a-file', 'cache'), { read: true });
    expect(cache.problem).toBe('ENOTDIR');
    const bytes = Buffer.from('x');
    expect(await cache.put(entry('34'.repeat(32), bytes), new Map([['512', bytes]]))).toBeUndefined();
    expect(await cache.get('34'.repeat(32))).toBeUndefined();
  });

  it('does not read entries under --no-cache', async () => {
    const bytes = Buffer.from('x');
    const key = 'cd'.repeat(32);
    await (await AssetCache.open(join(tmp.dir, 'cache'), { read: true })).put(entry(key, bytes), new Map([['512', bytes]]));
    const noRead = await AssetCache.open(join(tmp.dir, 'cache'), { read: false });
    expect(await noRead.get(key)).toBeUndefined();
  });

  // The clock the racy-file rule compares ctimes with: far ahead, every file is old enough.
  const later = () => Date.now() + 3_600_000;
  const indexFile = (scope: string) => join(tmp.dir, 'cache', 'v1', 'index', `${sha256Hex(scope)}.json`);

  it('reuses a source hash while size, mtime, ctime, inode and device are unchanged (one index file per pack)', async () => {
    const src = join(tmp.dir, 'a.png');
    writeFileSync(src, 'one');
    const scope = join(tmp.dir, 'pack-a');
    const first = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    expect((await first.sourceDigest(src)).sha256).toBe(sha256Hex('one'));
    await first.save();
    const doc = JSON.parse(readFileSync(indexFile(scope), 'utf8'));
    expect(doc.files[src].sha256).toBe(sha256Hex('one'));
    // Tamper with the recorded hash: a warm run trusts its own index (it does not re-read the file).
    doc.files[src].sha256 = 'f'.repeat(64);
    writeFileSync(indexFile(scope), JSON.stringify(doc));
    const second = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    expect((await second.sourceDigest(src)).sha256).toBe('f'.repeat(64));
    // --no-cache hashes again.
    const forced = await AssetCache.open(join(tmp.dir, 'cache'), { read: false, scope, clock: later });
    expect((await forced.sourceDigest(src)).sha256).toBe(sha256Hex('one'));
  });

  it('hashes again a file rewritten in place with the same size and its old mtime put back (ctime changed)', async () => {
    const src = join(tmp.dir, 'b.png');
    writeFileSync(src, 'old!');
    utimesSync(src, new Date(2020, 0, 1), new Date(2020, 0, 1));
    const scope = join(tmp.dir, 'pack-b');
    const cache = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    expect((await cache.sourceDigest(src)).sha256).toBe(sha256Hex('old!'));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the next ctime tick
    // What `cp -p` or a careful editor does: same inode, same size, same mtime.
    writeFileSync(src, 'new!');
    utimesSync(src, new Date(2020, 0, 1), new Date(2020, 0, 1));
    expect((await cache.sourceDigest(src)).sha256).toBe(sha256Hex('new!'));
    // And a changed file never reuses the variants of its old content: the key is the content's.
    expect((await cache.sourceDigest(src)).sha256).not.toBe(sha256Hex('old!'));
  });

  it('does not record a file changed too recently to tell (racy), so the next run reads it again', async () => {
    const src = join(tmp.dir, 'c.png');
    writeFileSync(src, 'fresh');
    const scope = join(tmp.dir, 'pack-c');
    const cache = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: () => Date.now() });
    expect((await cache.sourceDigest(src)).sha256).toBe(sha256Hex('fresh'));
    await cache.save();
    expect(existsSync(indexFile(scope)) ? JSON.parse(readFileSync(indexFile(scope), 'utf8')).files[src] : undefined).toBeUndefined();
    // Old enough: recorded.
    const later2 = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    await later2.sourceDigest(src);
    await later2.save();
    expect(JSON.parse(readFileSync(indexFile(scope), 'utf8')).files[src].sha256).toBe(sha256Hex('fresh'));
  });

  it('answers image headers from the index for unchanged files, and probes a changed one again', async () => {
    const { probeImage } = await import('../../src/shared/image-probe.js');
    const sharp = (await import('sharp')).default;
    const src = join(tmp.dir, 'p.png');
    await sharp({ create: { width: 40, height: 30, channels: 4, background: '#0f08' } }).png().toFile(src);
    const scope = join(tmp.dir, 'pack-p');
    const cache = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    const direct = await probeImage(src, { maxPixels: 1e8 });
    expect(await cache.probe(src, { maxPixels: 1e8 })).toEqual(direct);
    await cache.save();
    const doc = JSON.parse(readFileSync(indexFile(scope), 'utf8'));
    expect(doc.files[src].probe).toEqual({ format: 'png', width: 40, height: 30, hasAlpha: true, frames: 1 });
    // From the index: the record says 4000 px wide now, and the probe answers from it.
    doc.files[src].probe.width = 4000;
    writeFileSync(indexFile(scope), JSON.stringify(doc));
    const warm = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    expect(await warm.probe(src, { maxPixels: 1e8 })).toMatchObject({ ok: true, width: 4000 });
    // The pixel limit still applies to recorded facts (the file itself is then read).
    expect(await warm.probe(src, { maxPixels: 100_000 })).toEqual(direct);
    // A changed file is probed again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sharp({ create: { width: 50, height: 30, channels: 3, background: '#0f0' } }).png().toFile(src);
    expect(await warm.probe(src, { maxPixels: 1e8 })).toMatchObject({ ok: true, width: 50, hasAlpha: false });
  });

  it('ignores a damaged index file', async () => {
    const src = join(tmp.dir, 'd.png');
    writeFileSync(src, 'dee');
    const scope = join(tmp.dir, 'pack-d');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tmp.dir, 'cache', 'v1', 'index'), { recursive: true });
    writeFileSync(indexFile(scope), '{"version":1,"files":{"x":[1,2');
    const cache = await AssetCache.open(join(tmp.dir, 'cache'), { read: true, scope, clock: later });
    expect((await cache.sourceDigest(src)).sha256).toBe(sha256Hex('dee'));
  });
});

describe('cacheKeyWith', () => {
  it('gives cacheKey of the same parts, for any value of the field', async () => {
    const { cacheKeyWith } = await import('../../src/assets/cache.js');
    const parts = { variants: [{ name: '512', quality: 80, q: 'a"b\\c' }], encoder: { sharp: '1', vips: '2' } };
    const keyOf = cacheKeyWith(parts, 'source');
    for (const source of ['abc', 'f'.repeat(64), '"quoted"', '']) expect(keyOf(source)).toBe(cacheKey({ ...parts, source }));
  });
});

describe('assets.lock.json', () => {
  const v = (path: string, name: string): LockVariant => ({
    placeholder: 'p',
    sha256: 's',
    bytes: 1,
    height: 1,
    width: 1,
    format: 'webp',
    name,
    path,
  });
  it('sorts assets by id and variants by name, with a fixed key order', () => {
    const lock: AssetsLock = {
      version: 1,
      assets: [
        { id: 'whale', source: 'assets/whale.png', sourceSha256: 'w', variants: [v('assets/whale/96.png', '96'), v('assets/whale/256.webp', '256')] },
        { id: 'crab', source: 'assets/crab.png', sourceSha256: 'c', variants: [v('assets/crab/512.webp', '512')] },
      ],
    };
    const sorted = sortLock(lock);
    expect(sorted.assets.map((a) => a.id)).toEqual(['crab', 'whale']);
    expect(sorted.assets[1]!.variants.map((x) => x.name)).toEqual(['256', '96']);
    const text = serializeLock(lock);
    expect(text).toBe(serializeLock(sortLock({ version: 1, assets: [...lock.assets].reverse() })));
    expect(Object.keys(JSON.parse(text).assets[0].variants[0])).toEqual(['path', 'name', 'format', 'width', 'height', 'bytes', 'sha256', 'placeholder']);
    expect(text.endsWith('}\n')).toBe(true);
  });
});
