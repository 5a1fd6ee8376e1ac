// Many manifests in one `validate --no-files` call: one result per target, in the order
// given, missing targets named at once, and `--concurrency` (for packs with files) changing
// nothing about the report.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePacks } from '../../src/manifest/validate-many.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-validate-many-');
afterAll(() => tmp.cleanup());
const COUNT = 240;
let targets: string[];
/** What each target must give: null for a valid one, else the codes of its findings. */
const expected = new Map<string, string[] | null>();

beforeAll(() => {
  const base = JSON.parse(readFileSync(join(FIXTURES, 'packs', 'ocean-creatures', 'pack.json'), 'utf8'));
  targets = [];
  for (let i = 0; i < COUNT; i++) {
    const m = structuredClone(base);
    m.slug = `many-${i}`;
    let codes: string[] | null = null;
    if (i % 17 === 3) {
      m.colour = 'blue';
      codes = ['SCHEMA'];
    } else if (i % 23 === 5) {
      m.ageRange = { min: 9, max: 4 };
      codes = ['AGE_RANGE'];
    } else if (i % 29 === 7) {
      m.cover = 'no-such-asset';
      codes = ['COVER_UNKNOWN'];
    }
    let target: string;
    if (i % 10 === 0) {
      // Every tenth is a pack folder rather than a pack.json.
      target = `pack-${i}`;
      mkdirSync(join(tmp.dir, target));
      writeFileSync(join(tmp.dir, target, 'pack.json'), JSON.stringify(m, null, 2));
    } else {
      target = `m${i}.json`;
      writeFileSync(join(tmp.dir, target), i % 31 === 11 ? '{"slug": ' : JSON.stringify(m, null, 2));
      if (i % 31 === 11) codes = ['MANIFEST_UNREADABLE'];
    }
    targets.push(target);
    expected.set(target, codes);
  }
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures', 'pack.json'), join(tmp.dir, 'ocean.json'));
});

const run = (args: string[]) => runCli(['validate', '--no-files', '--json', ...args], { cwd: tmp.dir });

describe('validate --no-files of many manifests', () => {
  it('gives each target its own result, in the order given, whatever --concurrency says', async () => {
    const [shared, single] = await Promise.all([run(['--concurrency', '4', ...targets]), run(['--concurrency', '1', ...targets])]);
    expect(shared.code, shared.stderr).toBe(1);
    expect(single.code).toBe(1);
    expect(shared.stdout).toBe(single.stdout);
    const results = shared.json().results as Array<{ target: string; ok: boolean; findings: Array<{ code: string; file: string }> }>;
    expect(results.map((r) => r.target)).toEqual(targets);
    for (const r of results) {
      const codes = expected.get(r.target)!;
      expect({ target: r.target, ok: r.ok }).toEqual({ target: r.target, ok: codes === null });
      expect(r.findings.map((f) => f.code)).toEqual(codes ?? []);
      for (const f of r.findings) expect(f.file).toBe(r.target.endsWith('.json') ? r.target : `${r.target}/pack.json`);
    }
  });

  it('names every missing target at once (exit 3)', async () => {
    const withMissing = [...targets];
    withMissing.splice(7, 0, 'gone-1.json');
    withMissing.push('gone-2');
    const r = await run(['--concurrency', '4', ...withMissing]);
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'PATH_NOT_FOUND', details: { paths: ['gone-1.json', 'gone-2'] } });
  });

  it('reports an unreadable target as an input error (exit 3), never an internal one', async () => {
    symlinkSync('loop.json', join(tmp.dir, 'loop.json'));
    const withLoop = [...targets.slice(0, 150), 'loop.json', ...targets.slice(150)];
    const [shared, single] = await Promise.all([run(['--concurrency', '4', ...withLoop]), run(['--concurrency', '1', ...withLoop])]);
    expect(shared.code, shared.stderr).toBe(3);
    expect(shared.json().error.code).toBe('PATH_UNREADABLE');
    expect(shared.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(shared.stdout).toBe(single.stdout);
  });
});

describe('validatePacks (the module run from source)', () => {
  it('gives the same outcomes as the CLI, missing targets marked', async () => {
    const outcomes = await validatePacks(['ocean.json', 'gone.json', targets[3]!], { files: false, cwd: tmp.dir });
    expect(outcomes.map((o) => o.kind)).toEqual(['checked', 'missing', 'checked']);
    expect(outcomes[0]).toMatchObject({ result: { ok: true, findings: [] } });
    expect(outcomes[2]).toMatchObject({ result: { ok: false, findings: [{ code: 'SCHEMA' }] } });
  });
});
