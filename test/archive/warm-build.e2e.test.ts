// A warm build takes cache hits without reading them first, so a cache entry damaged since
// it was stored is found only as the archive is written: build then discards the entry,
// makes it again and writes the same archive (exit 0). Build first: npx tsc -p tsconfig.build.json
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
});
