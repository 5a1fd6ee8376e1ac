// packops init without prompts, as CI runs it (the built CLI; npm test builds first).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-init-e2e-');
afterAll(() => tmp.cleanup());

describe('packops init', () => {
  it('--yes with flags writes a pack that validates', async () => {
    const r = await runCli(
      ['init', 'ocean', '--yes', '--json', '--name', 'Ocean Creatures', '--category', 'characters', '--age-min', '3', '--age-max', '8', '--price', '499', '--creator', 'ocean-team'],
      { cwd: tmp.dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, slug: 'ocean-creatures', written: ['ocean/assets/placeholder.png', 'ocean/pack.json'] });
    const manifest = JSON.parse(readFileSync(join(tmp.dir, 'ocean', 'pack.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'Ocean Creatures', ageRange: { min: 3, max: 8 }, price: { amountMinor: 499, currency: 'USD' }, creator: 'ocean-team' });
    const v = await runCli(['validate', '--json', '--strict', 'ocean'], { cwd: tmp.dir });
    expect(v.code).toBe(0);
    const noFiles = await runCli(['validate', '--json', '--no-files', 'ocean/pack.json'], { cwd: tmp.dir });
    expect(noFiles.code).toBe(0);
  });

  it('a file where the pack folder (or its assets/) should be is OUTPUT_UNWRITABLE (exit 3), not an internal error', async () => {
    writeFileSync(join(tmp.dir, 'a-file'), 'not a folder\n');
    mkdirSync(join(tmp.dir, 'assets-is-a-file'));
    writeFileSync(join(tmp.dir, 'assets-is-a-file', 'assets'), 'not a folder\n');
    for (const dir of ['a-file', 'assets-is-a-file']) {
      const r = await runCli(['init', dir, '--yes', '--name', 'Ocean', '--creator', 'ocean-team', '--json'], { cwd: tmp.dir });
      expect(r.code, dir).toBe(3);
      expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
      expect(r.stderr).not.toContain('internal error');
    }
    expect(existsSync(join(tmp.dir, 'assets-is-a-file', 'pack.json'))).toBe(false);
  });

  it('refuses to overwrite an existing pack (PACK_EXISTS, exit 4)', async () => {
    const before = readFileSync(join(tmp.dir, 'ocean', 'pack.json'), 'utf8');
    const r = await runCli(['init', 'ocean', '--yes', '--creator', 'ana-lima', '--json'], { cwd: tmp.dir });
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'PACK_EXISTS' } });
    expect(readFileSync(join(tmp.dir, 'ocean', 'pack.json'), 'utf8')).toBe(before);
  });

  it('never prompts without a terminal: usage error with a hint', async () => {
    const r = await runCli(['init', 'quiet-pack'], { cwd: tmp.dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no terminal');
    expect(r.stderr).toContain('--yes');
    expect(existsSync(join(tmp.dir, 'quiet-pack', 'pack.json'))).toBe(false);
  });

  it('bad flag values are usage errors and write nothing', async () => {
    const r = await runCli(['init', 'bad', '--yes', '--creator', 'Ana Lima', '--age-min', '9', '--age-max', '4', '--json'], { cwd: tmp.dir });
    expect(r.code).toBe(2);
    const err = r.json().error;
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('--creator');
    expect(err.message).toContain('--age-min/--age-max');
    expect(existsSync(join(tmp.dir, 'bad', 'pack.json'))).toBe(false);
    const range = await runCli(['init', 'bad', '--yes', '--creator', 'ana-lima', '--age-max', '15'], { cwd: tmp.dir });
    expect(range.code).toBe(2);
    expect(range.stderr).toContain('--age-max must be between 0 and 12');
    const currency = await runCli(['init', 'bad', '--yes', '--creator', 'ana-lima', '--currency', 'EUR'], { cwd: tmp.dir });
    expect(currency.code).toBe(2);
    expect(currency.stderr).toContain('list price of a pack is in USD');
  });

  it('--yes takes the name from the folder and needs --creator', async () => {
    const missing = await runCli(['init', 'sea-friends', '--yes'], { cwd: tmp.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--creator');
    const r = await runCli(['init', 'sea-friends', '--yes', '--creator', 'bo-chen', '--json'], { cwd: tmp.dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'sea-friends', 'pack.json'), 'utf8'))).toMatchObject({ name: 'Sea Friends', slug: 'sea-friends', price: { amountMinor: 0 } });
  });
});
