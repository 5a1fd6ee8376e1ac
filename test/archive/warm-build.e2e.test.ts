// A warm build takes cache hits without reading them first, so a cache entry damaged since
// it was stored is found only as the archive is written: build then discards the entry,
// makes it again and writes the same archive (exit 0). Build first: npx tsc -p tsconfig.build.json
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const ZIP = 'ocean-creatures-1.0.0.zip';
const EPOCH = { SOURCE_DATE_EPOCH: '1767225600' };
let root: string;
let cleanup: () => void;

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('packops-warm-build-'));
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), join(root, 'pack'), { recursive: true, filter: (src) => !src.includes('.packops') });
  const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', join(root, 'keys'), '--json']);
  expect(keys.code, keys.stderr).toBe(0);
}, 120_000);
afterAll(() => cleanup());

describe('build with a warm cache', () => {
  it('heals a cache entry damaged after it was stored (same size, one byte off) and writes the same archive', async () => {
    const cache = join(root, 'cache');
    const build = (out: string) =>
      runCli(['build', join(root, 'pack'), '--key', join(root, 'keys', 'packops.key'), '--out', join(root, out), '--cache-dir', cache, '--json'], { env: EPOCH });
    const first = await build('first');
    expect(first.code, first.stderr).toBe(0);
    const objects = join(cache, 'v1', 'objects');
    const shard = readdirSync(objects)[0]!;
    const entry = join(objects, shard, readdirSync(join(objects, shard))[0]!);
    const file = join(entry, readdirSync(entry).find((f) => f !== 'meta.json')!);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const size = statSync(file).size;

    const second = await build('second');
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(join(root, 'second', ZIP)).equals(readFileSync(join(root, 'first', ZIP)))).toBe(true);
    // The entry was made again, whole.
    expect(statSync(file).size).toBe(size);
    expect(readFileSync(file).equals(bytes)).toBe(false);
    expect(readdirSync(join(root, 'second')).filter((n) => n.includes('.packops.'))).toEqual([]);
  });

  it('reads an entry made before CRC-32s were recorded, records them, and writes the same archive', async () => {
    const cache = join(root, 'cache-legacy');
    const build = (out: string) =>
      runCli(['build', join(root, 'pack'), '--key', join(root, 'keys', 'packops.key'), '--out', join(root, out), '--cache-dir', cache, '--json'], { env: EPOCH });
    const first = await build('legacy-1');
    expect(first.code, first.stderr).toBe(0);
    // Rewrite every meta.json as an older packops wrote it: no crc32, its sum right.
    const metas = readdirSync(join(cache, 'v1', 'objects')).flatMap((shard) =>
      readdirSync(join(cache, 'v1', 'objects', shard)).map((key) => join(cache, 'v1', 'objects', shard, key, 'meta.json')),
    );
    expect(metas.length).toBeGreaterThan(0);
    for (const path of metas) {
      const meta = JSON.parse(readFileSync(path, 'utf8')).meta;
      expect(meta.variants.every((v: { crc32?: number }) => Number.isInteger(v.crc32))).toBe(true);
      for (const v of meta.variants) delete v.crc32;
      const body = canonical(meta);
      writeFileSync(path, `{"sum":"${createHash('sha256').update(body).digest('hex')}","meta":${body}}\n`);
    }
    const second = await build('legacy-2');
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(join(root, 'legacy-2', ZIP)).equals(readFileSync(join(root, 'legacy-1', ZIP)))).toBe(true);
    for (const path of metas) {
      const meta = JSON.parse(readFileSync(path, 'utf8')).meta;
      for (const v of meta.variants) expect(v.crc32).toBe(crc32(readFileSync(join(path, '..', v.file))) >>> 0);
    }
  });
});

/** Canonical JSON as the cache writes meta.json: keys sorted at every level, no spaces. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
