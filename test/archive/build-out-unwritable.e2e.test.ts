// build --out pointing where nothing can be written: OUTPUT_UNWRITABLE (exit 3), nothing half-written.
// Build first: npx tsc -p tsconfig.build.json
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

let root: string;
let cleanup: () => void;

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('packops-archive-out-'));
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), join(root, 'ocean'), { recursive: true, filter: (src) => !src.includes('.packops') });
  const r = await runCli(['keys', 'generate', '--unencrypted', '--out', 'keys', '--json'], { cwd: root });
  expect(r.code).toBe(0);
});
afterAll(() => cleanup());

describe('build --out that cannot be written', () => {
  it('a file where the output folder should be is OUTPUT_UNWRITABLE (exit 3), not an internal error', async () => {
    writeFileSync(join(root, 'a-file'), 'not a folder\n');
    for (const out of ['a-file', 'a-file/sub']) {
      const r = await runCli(['build', 'ocean', '--key', 'keys/packops.key', '--out', out, '--json'], { cwd: root });
      expect(r.code, out).toBe(3);
      expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('a folder where the archive should be is OUTPUT_UNWRITABLE and leaves no temporary file', async () => {
    mkdirSync(join(root, 'blocked', 'ocean-creatures-1.0.0.zip'), { recursive: true });
    const r = await runCli(['build', 'ocean', '--key', 'keys/packops.key', '--out', 'blocked', '--json'], { cwd: root });
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
    expect(readdirSync(join(root, 'blocked'))).toEqual(['ocean-creatures-1.0.0.zip']);
  });
});
