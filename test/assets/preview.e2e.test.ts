/**
 * `packops preview`: the sheet is decoded and its tiles inspected (size, not blank,
 * checkerboard showing through transparency, error tiles for bad files).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseColumns, LAYOUT } from '../../src/assets/preview.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';
import { cutout, gpsPhoto, truncatedPng, writeManifest } from './images.js';

const tmp = tempDir('packops-preview-e2e-');
const pack = join(tmp.dir, 'pack');
const TILE = 160;

beforeAll(async () => {
  await Promise.all([
    cutout(join(pack, 'assets/whale.png')),
    cutout(join(pack, 'assets/crab.png'), 400, '#e74c3c'),
    gpsPhoto(join(pack, 'assets/park.jpg')),
    truncatedPng(join(pack, 'assets/broken.png')),
  ]);
  writeManifest(pack, [
    { id: 'whale', file: 'assets/whale.png', type: 'character' },
    { id: 'crab', file: 'assets/crab.png', type: 'sticker' },
    { id: 'park', file: 'assets/park.jpg', type: 'background' },
  ]);
});
afterAll(() => tmp.cleanup());

interface Sheet {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

async function decode(path: string): Promise<Sheet> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Distinct grey levels and the luminance spread of a rectangle of the sheet. */
function region(sheet: Sheet, left: number, top: number, w: number, h: number) {
  const values = new Set<number>();
  let min = 255;
  let max = 0;
  for (let y = top; y < top + h; y++) {
    for (let x = left; x < left + w; x++) {
      const i = (y * sheet.width + x) * sheet.channels;
      const lum = Math.round((sheet.data[i]! + sheet.data[i + 1]! + sheet.data[i + 2]!) / 3);
      values.add(lum);
      min = Math.min(min, lum);
      max = Math.max(max, lum);
    }
  }
  return { distinct: values.size, spread: max - min };
}

function tileOrigin(sheet: { width: number }, columns: number, index: number) {
  const cellW = TILE + LAYOUT.gap;
  const cellH = TILE + LAYOUT.label + LAYOUT.gap;
  const left0 = Math.floor((sheet.width - (columns * cellW - LAYOUT.gap)) / 2);
  return { left: left0 + (index % columns) * cellW, top: LAYOUT.header + Math.floor(index / columns) * cellH };
}

describe('packops preview', () => {
  it('draws every source on a checkerboard with its id, at the size it reports', async () => {
    const out = join(tmp.dir, 'sheet.png');
    const r = await runCli(['preview', pack, '-o', out, '--json']);
    expect(r.code).toBe(0);
    const body = r.json();
    expect(body).toMatchObject({ ok: true, from: 'sources', columns: 3, rows: 1, findings: [] });
    expect(body.tiles.map((t: { id: string }) => t.id)).toEqual(['whale', 'crab', 'park']);
    const sheet = await decode(out);
    expect([sheet.width, sheet.height]).toEqual([body.width, body.height]);
    for (let i = 0; i < 3; i++) {
      const { left, top } = tileOrigin(sheet, body.columns, i);
      // Not blank: the art has many shades.
      expect(region(sheet, left, top, TILE, TILE).distinct).toBeGreaterThan(10);
      // The label strip under the tile holds dark text.
      expect(region(sheet, left, top + TILE, TILE, LAYOUT.label).spread).toBeGreaterThan(100);
    }
    // The whale's transparent corner shows the checkerboard: exactly two light shades.
    const { left, top } = tileOrigin(sheet, body.columns, 0);
    const corner = region(sheet, left, top, 2 * LAYOUT.square, 2 * LAYOUT.square);
    expect(corner.distinct).toBe(2);
    expect(corner.spread).toBeGreaterThan(20);
    // The title band is not empty.
    expect(region(sheet, LAYOUT.margin, 10, 200, 40).spread).toBeGreaterThan(100);
  });

  it('draws the built variants with --from variants, and asks for `packops assets` when there are none', async () => {
    const missing = await runCli(['preview', pack, '--from', 'variants', '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json().error.code).toBe('LOCK_MISSING');

    expect((await runCli(['assets', pack])).code).toBe(0);
    const r = await runCli(['preview', pack, '--from', 'variants', '--json']);
    expect(r.code).toBe(0);
    const body = r.json();
    expect(body.path).toBe(join(pack, '.packops', 'preview.png'));
    expect(body.tiles.every((t: { ok: boolean; file: string }) => t.ok && t.file.includes('.packops/out/assets/'))).toBe(true);
    const sheet = await decode(body.path);
    for (let i = 0; i < 3; i++) {
      const { left, top } = tileOrigin(sheet, body.columns, i);
      expect(region(sheet, left, top, TILE, TILE).distinct).toBeGreaterThan(10);
    }
  });

  it('gives a bad source an error tile and a finding, and still writes the sheet (exit 1)', async () => {
    const badPack = join(tmp.dir, 'bad');
    await cutout(join(badPack, 'assets/ok.png'));
    await truncatedPng(join(badPack, 'assets/broken.png'));
    writeManifest(badPack, [
      { id: 'ok', file: 'assets/ok.png', type: 'sticker' },
      { id: 'broken', file: 'assets/broken.png', type: 'sticker' },
      { id: 'gone', file: 'assets/gone.png', type: 'sticker' },
    ]);
    const r = await runCli(['preview', badPack, '--json']);
    expect(r.code).toBe(1);
    const body = r.json();
    expect(body.findings.map((f: { code: string }) => f.code)).toEqual(['ASSET_CORRUPT', 'ASSET_MISSING']);
    expect(body.tiles.map((t: { ok: boolean }) => t.ok)).toEqual([true, false, false]);
    expect(existsSync(body.path)).toBe(true);
    const sheet = await decode(body.path);
    const { left, top } = tileOrigin(sheet, body.columns, 1);
    // The error tile is pink with red text, not blank.
    expect(region(sheet, left + 4, top + 4, TILE - 8, TILE - 8).spread).toBeGreaterThan(50);
  });

  it('previews a shipped fixture pack', async () => {
    const out = join(tmp.dir, 'ocean.png');
    const r = await runCli(['preview', join(FIXTURES, 'packs', 'ocean-creatures'), '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/6 assets in 3 columns/);
    expect((await sharp(out).metadata()).format).toBe('png');
  });
});

describe('chooseColumns', () => {
  it('fits the columns to the number of assets and the maximum width', () => {
    expect(chooseColumns(1, TILE)).toBe(1);
    expect(chooseColumns(3, TILE)).toBe(3);
    expect(chooseColumns(6, TILE)).toBe(3);
    expect(chooseColumns(12, TILE)).toBe(5);
    const many = chooseColumns(500, TILE);
    expect(2 * LAYOUT.margin + many * (TILE + LAYOUT.gap) - LAYOUT.gap).toBeLessThanOrEqual(LAYOUT.maxWidth);
  });
});
