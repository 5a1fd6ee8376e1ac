/**
 * `packops assets` as users run it: real images made by sharp, the built CLI spawned,
 * exit code, stdout JSON and stderr checked separately, outputs checked with exiftool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAssetRules } from '../../src/manifest/asset-rules.js';
import { runCli, tempDir } from '../helpers/cli.js';
import {
  bombPng,
  cmykJpeg,
  cutout,
  gifNamedPng,
  gpsPhoto,
  noisyPhoto,
  png16,
  readJson,
  rotatedPhoto,
  truncatedPng,
  writeManifest,
} from './images.js';

const tmp = tempDir('packops-assets-e2e-');
const good = join(tmp.dir, 'good');
const bad = join(tmp.dir, 'bad');
const rules = loadAssetRules();

beforeAll(async () => {
  await Promise.all([
    cutout(join(good, 'assets/whale.png')),
    gpsPhoto(join(good, 'assets/park.jpg')),
    rotatedPhoto(join(good, 'assets/sideways.jpg')),
    cmykJpeg(join(good, 'assets/print.jpg')),
    png16(join(good, 'assets/deep.png')),
    cutout(join(bad, 'assets/fine.png'), 512, '#27ae60'),
    truncatedPng(join(bad, 'assets/truncated.png')),
    bombPng(join(bad, 'assets/bomb.png')),
    gifNamedPng(join(bad, 'assets/gif.png')),
    noisyPhoto(join(bad, 'assets/noisy.jpg')),
  ]);
  writeManifest(good, [
    { id: 'whale', file: 'assets/whale.png', type: 'character' },
    { id: 'park', file: 'assets/park.jpg', type: 'background' },
    { id: 'sideways', file: 'assets/sideways.jpg', type: 'background' },
    { id: 'print', file: 'assets/print.jpg', type: 'background' },
    { id: 'deep', file: 'assets/deep.png', type: 'sticker' },
  ]);
  writeManifest(bad, [
    { id: 'fine', file: 'assets/fine.png', type: 'sticker' },
    { id: 'truncated', file: 'assets/truncated.png', type: 'sticker' },
    { id: 'bomb', file: 'assets/bomb.png', type: 'sticker' },
    { id: 'gif', file: 'assets/gif.png', type: 'sticker' },
    { id: 'missing', file: 'assets/missing.png', type: 'sticker' },
    { id: 'noisy', file: 'assets/noisy.jpg', type: 'background' },
  ]);
});
afterAll(() => tmp.cleanup());

const outOf = (pack: string) => join(pack, '.packops', 'out');

describe('packops assets on good art', () => {
  let first: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    first = await runCli(['assets', good, '--json']);
  });

  it('writes every variant within its box and prints the checks shape with the variants', () => {
    expect(first.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(first.code).toBe(0);
    const report = first.json();
    expect(report.ok).toBe(true);
    expect(report.results).toHaveLength(1);
    const result = report.results[0];
    expect(result).toMatchObject({ ok: true, findings: [] });
    expect(result.variants).toHaveLength(15);
    const lock = readJson(join(outOf(good), 'assets.lock.json'));
    expect(lock.assets.map((a: { id: string }) => a.id)).toEqual(['deep', 'park', 'print', 'sideways', 'whale']);
    for (const asset of lock.assets) {
      const type = { whale: 'character', deep: 'sticker' }[asset.id as string] ?? 'background';
      for (const v of asset.variants) {
        const rule = rules.types[type as 'sticker'].variants.find((r) => r.name === v.name)!;
        expect(v.width).toBeLessThanOrEqual(rule.width);
        expect(v.height).toBeLessThanOrEqual(rule.height);
        const bytes = readFileSync(join(outOf(good), v.path));
        expect(bytes.length).toBe(v.bytes);
        expect(v.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(v.placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
        expect(v.path).toBe(`assets/${asset.id}/${v.name}.${v.format}`);
      }
    }
    expect(first.stderr).toMatch(/5 assets, 15 variants, .* → .* in [\d.]+ s \(0 variants from cache, 15 encoded\)/);
  });

  it('leaves no EXIF, GPS, XMP, IPTC or comment in any output (exiftool)', () => {
    const files = readJson(join(outOf(good), 'assets.lock.json')).assets.flatMap((a: any) => a.variants.map((v: any) => join(outOf(good), v.path)));
    const source = spawnSync('exiftool', ['-j', '-G', join(good, 'assets/park.jpg')], { encoding: 'utf8' });
    expect(source.status).toBe(0);
    expect(Object.keys(JSON.parse(source.stdout)[0]).some((k) => k.startsWith('EXIF:GPS'))).toBe(true);
    const r = spawnSync('exiftool', ['-j', '-G', '-a', ...files], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const tags = (JSON.parse(r.stdout) as Array<Record<string, unknown>>).flatMap((o) => Object.keys(o));
    expect(tags.length).toBeGreaterThan(files.length);
    const leaked = tags.filter(
      (t) => /^(EXIF|XMP[^:]*|IPTC|ICC_Profile|Photoshop|MakerNotes|APP\d+):/.test(t) || /GPS|Comment|Artist|Model/i.test(t.split(':')[1] ?? ''),
    );
    expect(leaked).toEqual([]);
  });

  it('turns the rotated phone photo upright and the CMYK and 16-bit sources into 8-bit sRGB', async () => {
    const sideways = await sharp(join(outOf(good), 'assets/sideways/2048.webp')).metadata();
    expect([sideways.width, sideways.height]).toEqual([800, 1200]);
    for (const file of ['assets/print/1024.webp', 'assets/deep/512.webp', 'assets/deep/96.png']) {
      const meta = await sharp(join(outOf(good), file)).metadata();
      expect(meta.space).toBe('srgb');
      expect(meta.depth).toBe('uchar');
    }
    expect((await sharp(join(outOf(good), 'assets/deep/96.png')).metadata()).hasAlpha).toBe(true);
  });

  it('a warm run does no image work, reports it, and leaves the lock byte-identical', async () => {
    const lockPath = join(outOf(good), 'assets.lock.json');
    const before = readFileSync(lockPath);
    const mtime = statSync(join(outOf(good), 'assets/park/2048.webp')).mtimeMs;
    const warm = await runCli(['assets', good]);
    expect(warm.code).toBe(0);
    expect(warm.stderr).toMatch(/15 variants from cache, 0 encoded/);
    expect(readFileSync(lockPath).equals(before)).toBe(true);
    expect(statSync(join(outOf(good), 'assets/park/2048.webp')).mtimeMs).toBe(mtime);

    // --no-cache does the work again and gives the same bytes.
    const forced = await runCli(['assets', good, '--no-cache', '--concurrency', '1']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/0 variants from cache, 15 encoded/);
    expect(readFileSync(lockPath).equals(before)).toBe(true);
  });

  it('re-encodes only the variants of a changed source, and a fresh output folder is filled from the cache', async () => {
    await cutout(join(good, 'assets/whale.png'), 512, '#e74c3c');
    const changed = await runCli(['assets', good, '--json']);
    expect(changed.code).toBe(0);
    expect(changed.stderr).toMatch(/12 variants from cache, 3 encoded/);
    const lock = readJson(join(outOf(good), 'assets.lock.json'));
    const whale = lock.assets.find((a: any) => a.id === 'whale');
    expect(readFileSync(join(outOf(good), whale.variants[0].path)).length).toBe(whale.variants[0].bytes);

    const elsewhere = join(tmp.dir, 'elsewhere');
    const restored = await runCli(['assets', good, '--out', elsewhere]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toMatch(/15 variants from cache, 0 encoded/);
    expect(readFileSync(join(elsewhere, 'assets.lock.json')).equals(readFileSync(join(outOf(good), 'assets.lock.json')))).toBe(true);
    for (const v of lock.assets.flatMap((a: any) => a.variants)) {
      expect(readFileSync(join(elsewhere, v.path)).equals(readFileSync(join(outOf(good), v.path)))).toBe(true);
    }
  });
});

describe('packops assets on hostile art', () => {
  it('reports each bad file by code, keeps going, and still writes the good outputs', async () => {
    const r = await runCli(['assets', bad, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    const report = r.json();
    expect(report.ok).toBe(false);
    const findings = report.results[0].findings as Array<{ code: string; message: string; file: string; pointer: string; line?: number }>;
    const byPointer = Object.fromEntries(findings.filter((f) => f.code !== 'VARIANT_OVER_BUDGET').map((f) => [f.pointer, f.code]));
    expect(byPointer).toEqual({
      '/assets/1/file': 'ASSET_CORRUPT',
      '/assets/2/file': 'ASSET_TOO_LARGE',
      '/assets/3/file': 'ASSET_FORMAT',
      '/assets/4/file': 'ASSET_MISSING',
    });
    for (const f of findings) {
      expect(f.file).toMatch(/pack\.json$/);
      expect(f.line).toBeGreaterThan(1);
    }
    expect(findings.find((f) => f.code === 'ASSET_CORRUPT')?.message).toContain('truncated.png');
    const overBudget = findings.filter((f) => f.code === 'VARIANT_OVER_BUDGET');
    expect(overBudget.length).toBeGreaterThan(0);
    expect(overBudget.every((f) => f.pointer === '/assets/5')).toBe(true);

    // The good asset and the over-budget one are written; the bad ones are not.
    const variants = report.results[0].variants.map((v: { path: string }) => v.path);
    expect(variants).toEqual(expect.arrayContaining(['assets/fine/512.webp', 'assets/noisy/2048.webp']));
    expect(variants.some((p: string) => /truncated|bomb|gif|missing/.test(p))).toBe(false);
    for (const p of variants) expect(existsSync(join(outOf(bad), p))).toBe(true);
    const big = readJson(join(outOf(bad), 'assets.lock.json')).assets.find((a: any) => a.id === 'noisy').variants.find((v: any) => v.name === '2048');
    expect(big.bytes).toBeGreaterThan(rules.types.background.variants[0]!.budgetBytes);
  });

  it('prints findings for people without --json, and a problem count on stderr', async () => {
    const r = await runCli(['assets', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ASSET_TOO_LARGE/);
    expect(r.stdout).toMatch(/VARIANT_OVER_BUDGET/);
    expect(r.stderr).toMatch(/\d+ problems/);
  });

  it('drops the outputs of an asset that left the pack', async () => {
    const pack = join(tmp.dir, 'shrinking');
    await cutout(join(pack, 'assets/a.png'));
    await cutout(join(pack, 'assets/b.png'), 400);
    writeManifest(pack, [
      { id: 'a', file: 'assets/a.png', type: 'sticker' },
      { id: 'b', file: 'assets/b.png', type: 'sticker' },
    ]);
    expect((await runCli(['assets', pack])).code).toBe(0);
    expect(existsSync(join(outOf(pack), 'assets/b/512.webp'))).toBe(true);
    writeManifest(pack, [{ id: 'a', file: 'assets/a.png', type: 'sticker' }]);
    expect((await runCli(['assets', pack])).code).toBe(0);
    expect(existsSync(join(outOf(pack), 'assets/b'))).toBe(false);
    expect(existsSync(join(outOf(pack), 'assets/a/512.webp'))).toBe(true);
  });
});

describe('packops assets and paths that leave the pack', () => {
  it('skips an asset whose path or link leaves the pack, and optimises the others', async () => {
    const pack = join(tmp.dir, 'escaping');
    await cutout(join(pack, 'assets/ok.png'));
    await cutout(join(tmp.dir, 'secret.png'));
    symlinkSync(join(tmp.dir, 'secret.png'), join(pack, 'assets/link.png'));
    writeManifest(pack, [
      { id: 'ok', file: 'assets/ok.png', type: 'sticker' },
      { id: 'dotdot', file: '../secret.png', type: 'sticker' },
      { id: 'link', file: 'assets/link.png', type: 'sticker' },
    ]);
    const r = await runCli(['assets', pack, '--json']);
    expect(r.code).toBe(1);
    const result = r.json().results[0];
    const codes = new Set(result.findings.map((f: { code: string; pointer: string }) => `${f.pointer} ${f.code}`));
    expect(codes).toContain('/assets/1/file PATH_UNSAFE');
    expect(codes).toContain('/assets/2/file PATH_UNSAFE');
    expect(result.variants.map((v: { path: string }) => v.path)).toEqual(['assets/ok/256.webp', 'assets/ok/512.webp', 'assets/ok/96.png']);
  });
});

describe('packops assets input errors', () => {
  it('a manifest that cannot be read is a finding of the pack (exit 1)', async () => {
    const pack = join(tmp.dir, 'broken');
    mkdirSync(pack, { recursive: true });
    writeFileSync(join(pack, 'pack.json'), '{ "slug": ');
    const r = await runCli(['assets', pack, '--json']);
    expect(r.code).toBe(1);
    expect(r.json().results[0].findings[0].code).toBe('MANIFEST_UNREADABLE');
    expect(existsSync(join(pack, '.packops'))).toBe(false);
  });

  it('a malformed asset list stops the run before any file is touched', async () => {
    const pack = join(tmp.dir, 'dupes');
    await cutout(join(pack, 'assets/a.png'));
    writeManifest(pack, [
      { id: 'a', file: 'assets/a.png', type: 'sticker' },
      { id: 'a', file: 'assets/a.png', type: 'sticker' },
    ]);
    const r = await runCli(['assets', pack, '--json']);
    expect(r.code).toBe(1);
    expect(r.json().results[0].findings.map((f: { code: string }) => f.code)).toContain('ASSET_ID_DUPLICATE');
    expect(existsSync(join(pack, '.packops'))).toBe(false);
  });

  it('a path that does not exist is an input error (exit 3)', async () => {
    const r = await runCli(['assets', join(tmp.dir, 'nope'), '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('PATH_NOT_FOUND');
  });

  it('an output folder that cannot be written is an input error naming it (exit 3), not a crash', async () => {
    const blocker = join(tmp.dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const r = await runCli(['assets', good, '--out', join(blocker, 'out'), '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
    expect(r.json().error.message).toContain('a-file');
  });

  it('refuses an output folder that is the pack itself (exit 2) and a bad --concurrency', async () => {
    const r = await runCli(['assets', good, '--out', good, '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('USAGE');
    const c = await runCli(['assets', good, '--concurrency', '0']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--concurrency/);
  });
});
