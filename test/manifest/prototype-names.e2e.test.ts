/**
 * Names that come from data are never looked up in plain objects: an asset `type` (or a
 * market key) of `__proto__`, `constructor`, `toString`, `valueOf` or `hasOwnProperty` is an
 * unknown name like any other: a SCHEMA finding at its pointer, exit 1, never exit 70.
 * Every command that reads the asset rules is run: validate, validate --no-files, assets,
 * preview and build.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-proto-');
afterAll(() => tmp.cleanup());
const NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

beforeAll(async () => {
  const r = await runCli(['keys', 'generate', '--unencrypted', '--out', join(tmp.dir, 'keys')]);
  if (r.code !== 0) throw new Error(r.stderr);
});

function packWithType(name: string): string {
  const dir = join(tmp.dir, `type-${name}`);
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), dir, { recursive: true, filter: (s) => !s.endsWith('.packops') });
  const m = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
  m.assets[0].type = name;
  writeFileSync(join(dir, 'pack.json'), `${JSON.stringify(m, null, 2)}\n`);
  return dir;
}

describe('asset types named after Object.prototype members', () => {
  for (const name of NAMES) {
    it(`type "${name}" is a SCHEMA finding in validate, assets, preview and build`, async () => {
      const dir = packWithType(name);
      for (const args of [
        ['validate', dir, '--json'],
        ['validate', dir, '--no-files', '--json'],
        ['assets', dir, '--cache-dir', join(tmp.dir, 'cache'), '--json'],
      ]) {
        const r = await runCli(args);
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1);
        const findings = r.json().results[0].findings;
        expect(findings).toContainEqual(expect.objectContaining({ code: 'SCHEMA', pointer: '/assets/0/type' }));
      }
      const preview = await runCli(['preview', dir, '-o', join(tmp.dir, `${name}.png`), '--json']);
      expect(preview.code, preview.stderr).toBe(1);
      const build = await runCli(['build', dir, '--key', join(tmp.dir, 'keys', 'packops.key'), '--out', join(tmp.dir, 'dist'), '--json']);
      expect(build.code, build.stderr).toBe(1);
      expect(build.json().results[0].findings).toContainEqual(expect.objectContaining({ code: 'SCHEMA', pointer: '/assets/0/type' }));
      for (const r of [preview, build]) expect(r.stderr).not.toMatch(/internal error/);
    });
  }
});
