import { join } from 'node:path';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureSharp, encodeAsset, encoderFingerprint, intermediateBox } from '../../src/assets/encode.js';
import { loadAssetRules, type VariantRule } from '../../src/manifest/asset-rules.js';
import { tempDir } from '../helpers/cli.js';
import { bombPng, cmykJpeg, cutout, gpsPhoto, png16, rotatedPhoto, truncatedPng } from './images.js';

const rules = loadAssetRules();
const limits = { maxPixels: rules.maxSourcePixels };
const tmp = tempDir('packops-encode-');
const img = (name: string) => join(tmp.dir, name);

beforeAll(async () => {
  configureSharp(2, 2);
  await Promise.all([
    cutout(img('whale.png')),
    cutout(img('small.png'), 300),
    gpsPhoto(img('park.jpg')),
    rotatedPhoto(img('sideways.jpg')),
    cmykJpeg(img('cmyk.jpg')),
    png16(img('deep.png')),
    truncatedPng(img('truncated.png')),
    bombPng(img('bomb.png')),
  ]);
});
afterAll(() => tmp.cleanup());

describe('encodeAsset', () => {
  it('writes every variant of a cut-out within its box, keeping alpha, in the rule formats', async () => {
    const { variants } = await encodeAsset(img('whale.png'), rules.types.character.variants, limits);
    expect(variants.map((v) => [v.rule.name, v.format, v.width, v.height])).toEqual([
      ['512', 'webp', 512, 512],
      ['256', 'webp', 256, 256],
      ['96', 'png', 96, 96],
    ]);
    for (const v of variants) {
      const meta = await sharp(v.data).metadata();
      expect(meta.format).toBe(v.format);
      expect(meta.hasAlpha).toBe(true);
      // The corner of the disc art stays transparent.
      const { data } = await sharp(v.data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(data[3]).toBe(0);
    }
  });

  it('never enlarges: a 300 px source stays 300 px in the 512 variant', async () => {
    const { variants } = await encodeAsset(img('small.png'), rules.types.sticker.variants, limits);
    expect(variants.find((v) => v.rule.name === '512')).toMatchObject({ width: 300, height: 300 });
    expect(variants.find((v) => v.rule.name === '256')).toMatchObject({ width: 256, height: 256 });
  });

  it('removes EXIF, GPS and XMP from a photo and keeps its aspect ratio', async () => {
    const before = await sharp(img('park.jpg')).metadata();
    expect(before.exif).toBeDefined();
    expect(before.xmp).toBeDefined();
    const { variants } = await encodeAsset(img('park.jpg'), rules.types.background.variants, limits);
    expect(variants.map((v) => `${v.width}x${v.height}`)).toEqual(['2048x1536', '1024x768', '256x192']);
    for (const v of variants) {
      const meta = await sharp(v.data).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.iptc).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(v.data.includes(Buffer.from('Phone 12'))).toBe(false);
    }
  });

  it('applies EXIF orientation 6 before the metadata goes: the phone photo comes out upright', async () => {
    const { variants } = await encodeAsset(img('sideways.jpg'), rules.types.background.variants, limits);
    const largest = variants[0]!;
    expect([largest.width, largest.height]).toEqual([800, 1200]);
    const { data, info } = await sharp(largest.data).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const [r1, , b1] = at(400, 100);
    const [r2, , b2] = at(400, 1100);
    expect(r1).toBeGreaterThan(200); // red on top
    expect(b1).toBeLessThan(60);
    expect(b2).toBeGreaterThan(200); // blue below
    expect(r2).toBeLessThan(60);
  });

  it('converts CMYK and 16-bit sources to 8-bit sRGB', async () => {
    for (const [file, type] of [
      ['cmyk.jpg', 'background'],
      ['deep.png', 'sticker'],
    ] as const) {
      const { variants } = await encodeAsset(img(file), rules.types[type].variants, limits);
      for (const v of variants) {
        const meta = await sharp(v.data).metadata();
        expect(meta.space).toBe('srgb');
        expect(meta.depth).toBe('uchar');
      }
    }
    // The CMYK sky is still blue-ish after conversion, not inverted.
    const { variants } = await encodeAsset(img('cmyk.jpg'), rules.types.background.variants, limits);
    const { data } = await sharp(variants[0]!.data).raw().toBuffer({ resolveWithObject: true });
    expect(data[2]!).toBeGreaterThan(data[0]!);
  });

  it('gives a ThumbHash placeholder that decodes to a ≤100 px image of the same aspect', async () => {
    const { placeholder } = await encodeAsset(img('park.jpg'), rules.types.background.variants, limits);
    const decoded = thumbHashToRGBA(Buffer.from(placeholder, 'base64'));
    expect(decoded.w).toBeGreaterThan(decoded.h);
    expect(decoded.w).toBeLessThanOrEqual(32);
  });

  it('is deterministic: the same source gives the same bytes', async () => {
    const a = await encodeAsset(img('whale.png'), rules.types.character.variants, limits);
    const b = await encodeAsset(img('whale.png'), rules.types.character.variants, limits);
    expect(a.variants.map((v) => v.data.toString('base64'))).toEqual(b.variants.map((v) => v.data.toString('base64')));
    expect(a.placeholder).toBe(b.placeholder);
  });

  it('throws on a truncated file and on a header over the pixel limit', async () => {
    await expect(encodeAsset(img('truncated.png'), rules.types.sticker.variants, limits)).rejects.toThrow();
    await expect(encodeAsset(img('bomb.png'), rules.types.sticker.variants, limits)).rejects.toThrow(/pixel limit/);
  });
});

describe('helpers', () => {
  it('resizes once to a box covering every variant', () => {
    const v = (width: number, height: number): VariantRule => ({ name: `${width}`, format: 'webp', width, height, budgetBytes: 1 });
    expect(intermediateBox([v(512, 512), v(96, 96)])).toEqual({ width: 512, height: 512 });
    expect(intermediateBox([v(1024, 256), v(256, 1024)])).toEqual({ width: 1024, height: 1024 });
  });

  it('fingerprints the encoder with the sharp and libvips versions', () => {
    const f = encoderFingerprint();
    expect(f.sharp).toBe(sharp.versions.sharp);
    expect(f.vips).toBe(sharp.versions.vips);
  });
});
