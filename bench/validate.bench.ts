// Validation of 1,000 generated manifests: `packops validate --no-files --json` (schema +
// semantic rules) against ajv-cli validating the same files with the same schema
// (draft 2020-12, ajv-formats, all errors). Target: packops at least 2× faster.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, PACKOPS, report, ROOT, run, WORK } from './lib.js';

const COUNT = 1000;
const INVALID_EVERY = 20; // 5% of the manifests carry one mistake, as a real batch might.

function generate(dir: string): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'packs', 'ocean-creatures', 'pack.json'), 'utf8')) as Record<string, any>;
  const categories = ['characters', 'environments', 'educational', 'creative_tools', 'seasonal'];
  const files: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const m = structuredClone(base);
    m.slug = `bench-pack-${i}`;
    m.name = `Bench Pack ${i}`;
    m.category = categories[i % categories.length];
    if (m.category === 'educational') m.educationalObjectives = ['count to 10'];
    m.price = { amountMinor: 99 + (i % 50) * 100, currency: 'USD' };
    m.ageRange = { min: i % 5, max: 5 + (i % 8) };
    m.assets = Array.from({ length: 6 + (i % 20) }, (_, j) => ({
      id: `asset-${j}`,
      file: `assets/asset-${j}.png`,
      type: j % 7 === 6 ? 'background' : 'character',
      altText: `Asset number ${j} of pack ${i}`,
    }));
    m.cover = 'asset-0';
    if (i % INVALID_EVERY === 7) m.colour = 'blue';
    const file = join(dir, `m${String(i).padStart(4, '0')}.json`);
    writeFileSync(file, JSON.stringify(m, null, 2));
    files.push(file);
  }
  return files;
}

export default function validateBench(): void {
  const dir = join(WORK, 'validate-manifests');
  const files = generate(dir);
  const ajv = join(ROOT, 'node_modules', '.bin', 'ajv');
  const ajvArgs = ['validate', '--spec=draft2020', '-s', join(ROOT, 'schemas', 'pack.schema.json'), '-d', join(dir, '*.json'), '-c', 'ajv-formats', '--all-errors'];
  const oursArgs = [PACKOPS, 'validate', '--no-files', '--json', ...files];

  // Both must agree on the outcome: the invalid 5% fail, the rest pass.
  const expected = COUNT / INVALID_EVERY;
  const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
  const mine = spawnSync(process.execPath, oursArgs, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const verdict = JSON.parse(mine.stdout) as { results: Array<{ ok: boolean }> };
  const failed = verdict.results.filter((r) => !r.ok).length;
  const theirsOut = spawnSync(ajv, ajvArgs, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const theirFailed = (theirsOut.stdout + theirsOut.stderr).split('\n').filter((l) => / invalid$/.test(l)).length;
  if (verdict.results.length !== COUNT || failed !== expected || theirFailed !== expected) {
    throw new Error(`invalid manifests: packops ${failed} of ${verdict.results.length}, ajv-cli ${theirFailed}; expected ${expected} of ${COUNT}`);
  }

  const n = 5;
  const ours = median('packops validate --no-files --json (1,000 files)', n, () =>
    run('packops', process.execPath, oursArgs, { allowFail: true }),
  );
  const theirs = median('ajv-cli validate (1,000 files)', n, () => run('ajv-cli', ajv, ajvArgs, { allowFail: true }));
  const speedup = theirs.ms / ours.ms;
  report({
    name: 'validate 1,000 manifests (schema + semantic, --no-files)',
    ours,
    theirs,
    target: '≤ 0.5× (at least 2× faster)',
    met: speedup >= 2,
    extra: `packops is ${speedup.toFixed(2)}× faster; ${failed} invalid manifests found by both`,
  });
}
