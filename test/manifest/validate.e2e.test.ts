// Spawns the built CLI (npm test builds first; alone: npx tsc -p tsconfig.build.json).
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const INVALID = join(FIXTURES, 'invalid');
const PACKS = join(FIXTURES, 'packs');
const index = JSON.parse(readFileSync(join(INVALID, 'index.json'), 'utf8')) as Array<{ name: string; code: string; pointer: string | null }>;
const tmp = tempDir('packops-validate-');
afterAll(() => tmp.cleanup());

/** No internal error, no stack trace, whatever the input. */
function expectNoCrash(r: { code: number; stderr: string }): void {
  expect(r.code).not.toBe(70);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(r.stderr).not.toContain('internal error');
}

describe('invalid fixtures: each raises exactly the code it is named after', () => {
  // One process validates every invalid fixture (concurrently), as CI would.
  let report: { ok: boolean; results: Array<{ target: string; ok: boolean; findings: Array<Record<string, any>> }> };
  beforeAll(async () => {
    const r = await runCli(['validate', '--json', ...index.map((e) => e.name)], { cwd: INVALID });
    expectNoCrash(r);
    expect(r.code).toBe(1);
    report = r.json();
  });

  it('lists every folder in index.json', () => {
    const folders = readdirSync(INVALID, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.sort()).toEqual(index.map((e) => e.name).sort());
    expect(report.results.map((r) => r.target)).toEqual(index.map((e) => e.name));
  });

  it.each(index)('$name → $code at $pointer', ({ name, code, pointer }) => {
    const result = report.results.find((r) => r.target === name)!;
    expect(result.ok).toBe(false);
    const findings = result.findings;
    expect(findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([code]);
    const f = findings.find((x) => x.code === code)!;
    expect(f.file).toBe(`${name}/pack.json`);
    if (pointer === null) expect(f.pointer).toBeUndefined();
    else {
      expect(f.pointer).toBe(pointer);
      expect(f.line).toBeGreaterThan(0);
      expect(f.column).toBeGreaterThan(0);
    }
    expect(f.message.length).toBeGreaterThan(10);
  });

  it('each one alone exits 1 too (spot checks of the hostile ones)', async () => {
    for (const name of ['MANIFEST_UNREADABLE.bom', 'SCHEMA.proto-key', 'ASSET_TOO_LARGE', 'PATH_UNSAFE']) {
      const r = await runCli(['validate', '--json', name], { cwd: INVALID });
      expectNoCrash(r);
      expect(r.code, name).toBe(1);
      expect(r.json().results[0].findings[0].code).toBe(name.split('.')[0]);
    }
  });
});

describe('valid fixtures', () => {
  it('every fixture pack is valid, checked concurrently in one call', async () => {
    const packs = readdirSync(PACKS).map((p) => join(PACKS, p));
    const r = await runCli(['validate', '--json', ...packs]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = r.json();
    expect(report.ok).toBe(true);
    expect(report.results.map((x: { target: string }) => x.target)).toEqual(packs);
    for (const result of report.results) expect(result.findings).toEqual([]);
  });

  it('accepts a pack.json path as well as a folder; ocean-creatures passes the creator profile', async () => {
    const r = await runCli(['validate', '--json', '--profile', 'creator', 'packs/ocean-creatures/pack.json'], { cwd: FIXTURES });
    expect(r.code).toBe(0);
    expect(r.json().results[0]).toEqual({ target: 'packs/ocean-creatures/pack.json', ok: true, findings: [] });
  });

  it('the creator profile fails a pack with fewer than six assets', async () => {
    const r = await runCli(['validate', '--json', '--profile', 'creator', 'packs/forest-scenes'], { cwd: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.json().results[0].findings).toEqual([
      expect.objectContaining({ code: 'PROFILE', pointer: '/assets', file: 'packs/forest-scenes/pack.json' }),
    ]);
  });
});

describe('hostile and edge input', () => {
  it('a 10 MB manifest is refused unread', async () => {
    const dir = join(tmp.dir, 'huge');
    mkdirSync(dir);
    writeFileSync(join(dir, 'pack.json'), `{"name": "${'a'.repeat(10 * 1024 * 1024)}"}`);
    const r = await runCli(['validate', '--json', dir]);
    expectNoCrash(r);
    expect(r.code).toBe(1);
    const [f] = r.json().results[0].findings;
    expect(f.code).toBe('MANIFEST_UNREADABLE');
    expect(f.message).toContain('1 MiB');
  });

  it('an asset file over its byte limit is ASSET_FILE_TOO_BIG', async () => {
    const dir = join(tmp.dir, 'big-file');
    cpSync(join(INVALID, 'SCHEMA'), dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
    delete manifest.colour;
    writeFileSync(join(dir, 'pack.json'), JSON.stringify(manifest, null, 2));
    // A valid PNG padded with a 6 MB private ancillary chunk before IEND.
    const png = readFileSync(join(dir, 'assets', 'ball.png'));
    const data = deflateSync(Buffer.alloc(0));
    const pad = Buffer.alloc(6 * 1024 * 1024 + 12 + data.length);
    pad.writeUInt32BE(6 * 1024 * 1024 + data.length, 0);
    pad.write('prVt', 4, 'latin1');
    writeFileSync(join(dir, 'assets', 'ball.png'), Buffer.concat([png.subarray(0, png.length - 12), pad, png.subarray(png.length - 12)]));
    const r = await runCli(['validate', '--json', dir]);
    expectNoCrash(r);
    expect(r.code).toBe(1);
    expect(r.json().results[0].findings.map((f: { code: string }) => f.code)).toContain('ASSET_FILE_TOO_BIG');
  });

  it('a target that does not exist is an input error (exit 3), even among valid ones', async () => {
    const r = await runCli(['validate', '--json', 'packs/ocean-creatures', 'packs/nope'], { cwd: FIXTURES });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'PATH_NOT_FOUND', details: { paths: ['packs/nope'] } } });
    const plain = await runCli(['validate', 'packs/nope'], { cwd: FIXTURES });
    expect(plain.code).toBe(3);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('PATH_NOT_FOUND');
  });

  it('--no-files checks the manifest alone', async () => {
    const r = await runCli(['validate', '--json', '--no-files', 'ASSET_MISSING', 'ASSET_TOO_LARGE', 'PATH_UNSAFE'], { cwd: INVALID });
    expect(r.code).toBe(1);
    const results = r.json().results;
    expect(results.map((x: { ok: boolean }) => x.ok)).toEqual([true, true, false]);
  });

  it('warnings pass unless --strict', async () => {
    const dir = join(tmp.dir, 'no-alt');
    cpSync(join(PACKS, 'winter-wonders'), dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
    delete manifest.assets[1].altText;
    writeFileSync(join(dir, 'pack.json'), JSON.stringify(manifest, null, 2));
    const lax = await runCli(['validate', '--json', dir]);
    expect(lax.code).toBe(0);
    expect(lax.json().results[0].findings).toEqual([expect.objectContaining({ code: 'PROFILE', severity: 'warning', pointer: '/assets/1/altText' })]);
    const strict = await runCli(['validate', '--json', '--strict', dir]);
    expect(strict.code).toBe(1);
    expect(strict.json().ok).toBe(false);
  });
});

describe('reporters', () => {
  it('pretty prints a code frame and a hint', async () => {
    const r = await runCli(['validate', 'SCHEMA', 'COVER_UNKNOWN'], { cwd: INVALID });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ SCHEMA');
    expect(r.stdout).toContain('error SCHEMA Unknown field "colour" in the manifest.');
    expect(r.stdout).toMatch(/> 30 \| {3}"colour": "red"\n +\| {3}\^/);
    expect(r.stdout).toContain('did you mean "ball"?');
    expect(r.stdout).toContain('validate: 0 of 2 targets ok; 2 errors, 0 warnings');
    expect(r.stdout.includes('\u001b[')).toBe(false);
  });

  it('github: escaped annotations and a step summary table', async () => {
    const summary = join(tmp.dir, 'summary.md');
    writeFileSync(summary, '');
    const r = await runCli(['validate', '--format', 'github', 'AGE_RANGE', 'PATH_UNSAFE.drive-letter'], {
      cwd: INVALID,
      env: { GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^::error file=AGE_RANGE\/pack.json,line=\d+,col=\d+,title=AGE_RANGE::ageRange.max must be/);
    expect(lines[1]).toContain('title=PATH_UNSAFE::Asset path "C%3A/art/ball.png"'.replace('%3A', ':'));
    expect(lines.every((l) => !l.slice(2).includes('\n'))).toBe(true);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('### packops validate: failed');
    expect(md).toContain('| target | severity | code | file | line | pointer | message |');
    expect(md).toContain('`/ageRange/max`');
  });

  it('junit: a testsuite per target, a failing testcase per error, escaped', async () => {
    const r = await runCli(['validate', '--format', 'junit', 'SCHEMA.proto-key', '../packs/winter-wonders'], { cwd: INVALID });
    expect(r.code).toBe(1);
    expect(r.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="packops validate" tests="2" failures="1"')).toBe(true);
    expect(r.stdout).toContain('<testsuite name="SCHEMA.proto-key" tests="1" failures="1"');
    expect(r.stdout).toContain('<failure type="SCHEMA" message="Unknown field &quot;__proto__&quot; in the manifest.">');
    expect(r.stdout).toContain('<testsuite name="../packs/winter-wonders" tests="1" failures="0"');
    expect(r.stdout.match(/<testsuite /g)).toHaveLength(2);
  });

  it('sarif: 2.1.0, a rule per code, physical locations', async () => {
    const r = await runCli(['validate', '--format', 'sarif', 'CURRENCY', 'CURRENCY.lowercase', 'ASSET_NO_ALPHA'], { cwd: INVALID });
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout);
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe('packops');
    expect(run.tool.driver.rules.map((x: { id: string }) => x.id)).toEqual(['ASSET_NO_ALPHA', 'CURRENCY']);
    expect(run.tool.driver.rules[1].shortDescription.text).toContain('ISO 4217');
    expect(run.results).toHaveLength(3);
    const loc = run.results[0].locations[0];
    expect(loc.physicalLocation.artifactLocation).toEqual({ uri: 'CURRENCY/pack.json', uriBaseId: '%SRCROOT%' });
    expect(loc.physicalLocation.region.startLine).toBeGreaterThan(1);
    expect(loc.logicalLocations[0].fullyQualifiedName).toBe('/markets/GB/currency');
    expect(run.results[0].ruleIndex).toBe(1);
  });

  it('--format json without --json prints the same document', async () => {
    const a = await runCli(['validate', '--format', 'json', 'COVER_UNKNOWN'], { cwd: INVALID });
    const b = await runCli(['validate', '--json', 'COVER_UNKNOWN'], { cwd: INVALID });
    expect(a.code).toBe(1);
    expect(JSON.parse(a.stdout)).toEqual(b.json());
  });
});
