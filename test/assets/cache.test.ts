import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
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

    writeFileSync(join(tmp.dir, 'cache', 'objects', 'ab', key, '512.webp'), 'webp bytez');
    expect(await cache.get(key)).toBeUndefined();
  });

  it('does not read entries under --no-cache', async () => {
    const bytes = Buffer.from('x');
    const key = 'cd'.repeat(32);
    await (await AssetCache.open(join(tmp.dir, 'cache'), { read: true })).put(entry(key, bytes), new Map([['512', bytes]]));
    const noRead = await AssetCache.open(join(tmp.dir, 'cache'), { read: false });
    expect(await noRead.get(key)).toBeUndefined();
  });

  it('reuses a source hash while size, mtime and inode are unchanged, and re-hashes after an edit', async () => {
    const src = join(tmp.dir, 'a.png');
    writeFileSync(src, 'one');
    const first = await AssetCache.open(join(tmp.dir, 'cache'), { read: true });
    expect((await first.sourceDigest(src)).sha256).toBe(sha256Hex('one'));
    await first.save();
    const index = JSON.parse(readFileSync(join(tmp.dir, 'cache', 'index.json'), 'utf8'));
    // Tamper with the recorded hash: a warm run trusts the index (it does not re-read the file).
    index.sources[src].sha256 = 'f'.repeat(64);
    writeFileSync(join(tmp.dir, 'cache', 'index.json'), JSON.stringify(index));
    const second = await AssetCache.open(join(tmp.dir, 'cache'), { read: true });
    expect((await second.sourceDigest(src)).sha256).toBe('f'.repeat(64));
    // --no-cache hashes again.
    const forced = await AssetCache.open(join(tmp.dir, 'cache'), { read: false });
    expect((await forced.sourceDigest(src)).sha256).toBe(sha256Hex('one'));
    // An edit changes size or mtime: hashed again.
    writeFileSync(src, 'two!');
    utimesSync(src, new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect((await second.sourceDigest(src)).sha256).toBe(sha256Hex('two!'));
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
