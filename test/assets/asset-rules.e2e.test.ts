// validate and assets apply one type rule to an image's header (format, then the long edge
// between the type's minimum and maximum): assets never encodes what validate refuses
// (before: a 5000 px "sticker" became variants, exit 0), and validate never decodes an image
// it has already refused on its header (before: a 9999×9999 sticker refused as
// ASSET_TOO_LARGE was still decoded in full, 400 MB of pixels). Animated images get a
// warning, and every frame of one is decoded by validate's check.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { animatedWebp, apngDeclaring, cutout, sizedCutout, truncatedSizedPng, writeManifest } from './images.js';

const tmp = tempDir('packops-asset-rules-');
afterAll(() => tmp.cleanup());

type F = { code: string; severity: string; pointer: string; message: string };
const byPointer = (findings: F[]) => Object.fromEntries(findings.map((f) => [f.pointer, f.code]));

let sizes: string;
let animated: string;
let damaged: string;

beforeAll(async () => {
  sizes = join(tmp.dir, 'sizes');
  await cutout(join(sizes, 'assets', 'fine.png'), 512);
  await sizedCutout(join(sizes, 'assets', 'wide.png'), 5000, 300); // over a sticker's 4096 px
  await sizedCutout(join(sizes, 'assets', 'tiny.png'), 200, 100); // under a sticker's 256 px
  await sizedCutout(join(sizes, 'assets', 'scene.png'), 9000, 600); // over a background's 8192 px
  writeManifest(
    sizes,
    [
      { id: 'fine', file: 'assets/fine.png', type: 'sticker' },
      { id: 'wide', file: 'assets/wide.png', type: 'sticker' },
      { id: 'tiny', file: 'assets/tiny.png', type: 'sticker' },
      { id: 'scene', file: 'assets/scene.png', type: 'background' },
    ],
    { cover: 'fine' },
  );

  animated = join(tmp.dir, 'animated');
  await animatedWebp(join(animated, 'assets', 'wave.webp'), 3);
  await apngDeclaring(join(animated, 'assets', 'blink.png'), 2);
  writeManifest(
    animated,
    [
      { id: 'wave', file: 'assets/wave.webp', type: 'sticker' },
      { id: 'blink', file: 'assets/blink.png', type: 'sticker' },
    ],
    { cover: 'wave' },
  );

  damaged = join(tmp.dir, 'damaged');
  await animatedWebp(join(damaged, 'assets', 'wave.webp'), 3, true);
  await truncatedSizedPng(join(damaged, 'assets', 'wide-cut.png'), 5000, 300);
  writeManifest(
    damaged,
    [
      { id: 'wave', file: 'assets/wave.webp', type: 'sticker' },
      { id: 'wide-cut', file: 'assets/wide-cut.png', type: 'sticker' },
    ],
    { cover: 'wave' },
  );
});

describe('one long-edge rule for validate and assets', () => {
  const expected = {
    '/assets/1/file': 'ASSET_TOO_LARGE',
    '/assets/2/file': 'ASSET_TOO_SMALL',
    '/assets/3/file': 'ASSET_TOO_LARGE',
  };

  it('validate refuses the long edges outside the type limits', async () => {
    const r = await runCli(['validate', sizes, '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(byPointer(r.json().results[0].findings)).toEqual(expected);
  });

  it('assets refuses the same files with the same words, encodes none of them, and writes the rest (cold and warm)', async () => {
    const validate = (await runCli(['validate', sizes, '--json'])).json().results[0].findings as F[];
    for (const run of ['cold', 'warm']) {
      const r = await runCli(['assets', sizes, '--json']);
      expect(r.code, `${run}: ${r.stderr}`).toBe(1);
      const findings = r.json().results[0].findings as F[];
      expect(byPointer(findings), run).toEqual(expected);
      for (const f of findings) expect(f.message).toBe(validate.find((v) => v.pointer === f.pointer)!.message);
      expect(findings.find((f) => f.pointer === '/assets/1/file')!.message).toContain('5000×300; a sticker may have a long edge of at most 4096 px');
      const paths = r.json().results[0].variants.map((v: { path: string }) => v.path);
      expect(paths).toEqual(expect.arrayContaining(['assets/fine/512.webp']));
      expect(paths.some((p: string) => /wide|tiny|scene/.test(p))).toBe(false);
      for (const id of ['wide', 'tiny', 'scene']) expect(existsSync(join(sizes, '.packops', 'out', 'assets', id))).toBe(false);
      expect(r.stderr).toMatch(run === 'cold' ? /0 variants from cache, 3 encoded/ : /3 variants from cache, 0 encoded/);
    }
  });

  it('validate does not decode an image it refused on its header: a truncated 5000 px sticker is ASSET_TOO_LARGE only', async () => {
    const r = await runCli(['validate', damaged, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const findings = (r.json().results[0].findings as F[]).filter((f) => f.pointer === '/assets/1/file');
    expect(findings.map((f) => f.code)).toEqual(['ASSET_TOO_LARGE']);
  });
});

describe('animated images', () => {
  it('validate warns ASSET_ANIMATED (an animated WebP, an APNG) and passes unless --strict', async () => {
    const r = await runCli(['validate', animated, '--json']);
    expect(r.code, r.stdout).toBe(0);
    const findings = r.json().results[0].findings as F[];
    expect(findings).toEqual([
      expect.objectContaining({ code: 'ASSET_ANIMATED', severity: 'warning', pointer: '/assets/0/file', message: expect.stringContaining('animated (3 frames); the app shows its first frame only') }),
      expect.objectContaining({ code: 'ASSET_ANIMATED', severity: 'warning', pointer: '/assets/1/file', message: expect.stringContaining('PNG is animated (2 frames)') }),
    ]);
    const strict = await runCli(['validate', animated, '--strict', '--json']);
    expect(strict.code).toBe(1);
  });

  it('validate decodes every frame: damage in the last frame is ASSET_CORRUPT', async () => {
    const r = await runCli(['validate', damaged, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const findings = (r.json().results[0].findings as F[]).filter((f) => f.pointer === '/assets/0/file');
    expect(findings.map((f) => [f.code, f.severity])).toEqual([
      ['ASSET_ANIMATED', 'warning'],
      ['ASSET_CORRUPT', 'error'],
    ]);
  });

  it('assets warns too, on a cold and on a warm run, and makes the variants from the first frame', async () => {
    for (const run of ['cold', 'warm']) {
      const r = await runCli(['assets', animated, '--json']);
      expect(r.code, `${run}: ${r.stderr}`).toBe(0);
      expect(byPointer(r.json().results[0].findings), run).toEqual({ '/assets/0/file': 'ASSET_ANIMATED', '/assets/1/file': 'ASSET_ANIMATED' });
      expect(r.json().results[0].variants.find((v: { path: string }) => v.path === 'assets/wave/512.webp')).toMatchObject({ width: 300, height: 300 });
    }
  });
});
