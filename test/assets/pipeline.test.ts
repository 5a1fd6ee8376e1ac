import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeLock } from '../../src/assets/lock.js';
import { optimisePack } from '../../src/assets/pipeline.js';
import { tempDir } from '../helpers/cli.js';
import { cutout, gpsPhoto, writeManifest } from './images.js';

const tmp = tempDir('packops-pipeline-');
const pack = join(tmp.dir, 'pack');

beforeAll(async () => {
  await Promise.all([cutout(join(pack, 'assets/a.png')), cutout(join(pack, 'assets/b.png'), 700, '#8e44ad'), gpsPhoto(join(pack, 'assets/c.jpg'), 1600, 1200)]);
  writeManifest(pack, [
    { id: 'c', file: 'assets/c.jpg', type: 'background' },
    { id: 'a', file: 'assets/a.png', type: 'sticker' },
    { id: 'b', file: 'assets/b.png', type: 'brush' },
  ]);
});
afterAll(() => tmp.cleanup());

describe('optimisePack', () => {
  it('returns the lock it wrote, stats, and reports progress per asset', async () => {
    const progress: Array<[number, number, string]> = [];
    const out = join(tmp.dir, 'out');
    const cacheDir = join(tmp.dir, 'cache');
    const first = await optimisePack(pack, { out, cacheDir, concurrency: 2, onProgress: (d, t, l) => progress.push([d, t, l]) });
    expect(first.result.ok).toBe(true);
    expect(first.outDir).toBe(out);
    expect(first.lockPath).toBe(join(out, 'assets.lock.json'));
    expect(readFileSync(first.lockPath, 'utf8')).toBe(serializeLock(first.lock));
    expect(first.lock.assets.map((a) => a.id)).toEqual(['a', 'b', 'c']);
    expect(first.stats).toMatchObject({ assets: 3, variants: 9, cached: 0, encoded: 9 });
    expect(first.stats.bytesOut).toBe(first.result.variants.reduce((s, v) => s + v.bytes, 0));
    expect(progress.map((p) => p[0])).toEqual([1, 2, 3]);
    expect(progress.every((p) => p[1] === 3)).toBe(true);
    expect(progress.map((p) => p[2]).sort()).toEqual(['a', 'b', 'c']);

    const second = await optimisePack(pack, { out, cacheDir });
    expect(second.stats).toMatchObject({ cached: 9, encoded: 0, bytesIn: first.stats.bytesIn, bytesOut: first.stats.bytesOut });
    expect(second.lock).toEqual(first.lock);
  });

  it('writes <pack>/.packops/out by default, and caches in the per-user folder, never in the pack', async () => {
    const xdg = join(tmp.dir, 'xdg');
    const r = await optimisePack(join(pack, 'pack.json'), { cache: false, concurrency: 1, env: { XDG_CACHE_HOME: xdg } });
    expect(r.outDir).toBe(join(pack, '.packops', 'out'));
    expect(r.cache.dir).toBe(join(xdg, 'packops'));
    expect(readdirSync(join(xdg, 'packops', 'v1', 'objects')).length).toBeGreaterThan(0);
    expect(existsSync(join(pack, '.packops', 'cache'))).toBe(false);
    expect(r.stats.encoded).toBe(9);
    // Every variant build would read comes from that cache, not from the output folder.
    // Each with its CRC-32, recorded beside the SHA-256 when the variant was made.
    for (const v of r.result.variants) {
      const source = r.sources.get(v.path) as { file: string; crc32: number };
      expect(source).toEqual({ file: expect.stringContaining(join(xdg, 'packops', 'v1', 'objects')), crc32: expect.any(Number) });
      expect(source.crc32).toBe(crc32(readFileSync(source.file)) >>> 0);
    }
  });
});
