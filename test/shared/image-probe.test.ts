import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheck, probeImage } from '../../src/shared/image-probe.js';
import { FIXTURES, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-probe-');
afterAll(() => tmp.cleanup());
const LIMIT = { maxPixels: 100_000_000 };
const whale = join(FIXTURES, 'packs', 'ocean-creatures', 'assets', 'whale.png');
const glade = join(FIXTURES, 'packs', 'forest-scenes', 'assets', 'sunny-glade.jpg');

async function write(name: string, data: Buffer | Promise<Buffer>): Promise<string> {
  const path = join(tmp.dir, name);
  writeFileSync(path, await data);
  return path;
}

const rgba = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 4, background: { r: 200, g: 0, b: 0, alpha: 0.5 } } });
const rgb = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 0, g: 90, b: 200 } } });

describe('probeImage', () => {
  it('reads PNG and JPEG headers', async () => {
    expect(await probeImage(whale, LIMIT)).toEqual({ ok: true, format: 'png', width: 512, height: 512, hasAlpha: true, frames: 1, bytes: readFileSync(whale).length });
    expect(await probeImage(glade, LIMIT)).toMatchObject({ ok: true, format: 'jpeg', width: 2048, height: 1536, hasAlpha: false });
  });

  it('sees alpha in palette PNGs with tRNS and its absence in RGB PNGs', async () => {
    const palette = await write('palette.png', rgba(300, 200).png({ palette: true }).toBuffer());
    expect(await probeImage(palette, LIMIT)).toMatchObject({ ok: true, width: 300, height: 200, hasAlpha: true });
    const opaque = await write('opaque.png', rgb(300, 200).png().toBuffer());
    expect(await probeImage(opaque, LIMIT)).toMatchObject({ ok: true, hasAlpha: false });
  });

  it('reads lossy, lossless and extended WebP headers', async () => {
    const lossy = await write('lossy.webp', rgb(640, 480).webp().toBuffer());
    expect(await probeImage(lossy, LIMIT)).toMatchObject({ ok: true, format: 'webp', width: 640, height: 480, hasAlpha: false });
    const lossless = await write('lossless.webp', rgba(333, 222).webp({ lossless: true }).toBuffer());
    expect(await probeImage(lossless, LIMIT)).toMatchObject({ ok: true, width: 333, height: 222, hasAlpha: true });
    const alpha = await write('alpha.webp', rgba(400, 300).webp({ quality: 80 }).toBuffer());
    expect(await probeImage(alpha, LIMIT)).toMatchObject({ ok: true, width: 400, height: 300, hasAlpha: true });
  });

  it('refuses a 30000×30000 header before decoding', async () => {
    const bomb = join(FIXTURES, 'invalid', 'ASSET_TOO_LARGE', 'assets', 'ball.png');
    const r = await probeImage(bomb, LIMIT);
    expect(r).toMatchObject({ ok: false, code: 'ASSET_TOO_LARGE' });
    expect(readFileSync(bomb).length).toBeLessThan(200);
  });

  it('knows the format from the bytes, not the name', async () => {
    const jpegAsPng = await write('photo.png', rgb(300, 300).jpeg().toBuffer());
    expect(await probeImage(jpegAsPng, LIMIT)).toMatchObject({ ok: false, code: 'ASSET_FORMAT' });
    const gifAsPng = await write('anim.png', rgba(300, 300).gif().toBuffer());
    const r = await probeImage(gifAsPng, LIMIT);
    expect(r).toMatchObject({ ok: false, code: 'ASSET_FORMAT' });
    expect(!r.ok && r.message).toContain('GIF');
    const gif = await write('anim.gif', rgba(300, 300).gif().toBuffer());
    expect(await probeImage(gif, LIMIT)).toMatchObject({ ok: false, code: 'ASSET_FORMAT' });
    const text = await write('notes.png', Promise.resolve(Buffer.from('hello, not an image')));
    expect(await probeImage(text, LIMIT)).toMatchObject({ ok: false, code: 'ASSET_FORMAT' });
    const unchecked = await write('photo2.png', rgb(300, 300).jpeg().toBuffer());
    expect(await probeImage(unchecked, { ...LIMIT, checkExtension: false })).toMatchObject({ ok: true, format: 'jpeg' });
  });

  it('reports missing, empty and header-truncated files', async () => {
    expect(await probeImage(join(tmp.dir, 'nope.png'), LIMIT)).toMatchObject({ ok: false, code: 'ASSET_MISSING' });
    const empty = await write('empty.png', Promise.resolve(Buffer.alloc(0)));
    expect(await probeImage(empty, LIMIT)).toMatchObject({ ok: false, code: 'ASSET_CORRUPT' });
    const cut = await write('cut.png', Promise.resolve(readFileSync(whale).subarray(0, 20)));
    expect(await probeImage(cut, LIMIT)).toMatchObject({ ok: false, code: 'ASSET_CORRUPT' });
    const cutJpeg = await write('cut.jpg', Promise.resolve(readFileSync(glade).subarray(0, 10)));
    expect(await probeImage(cutJpeg, LIMIT)).toMatchObject({ ok: false, code: 'ASSET_CORRUPT' });
  });
});

describe('decodeCheck', () => {
  it('passes whole images and catches truncated ones', async () => {
    expect(await decodeCheck(whale)).toEqual({ ok: true });
    const copy = join(tmp.dir, 'whale.png');
    copyFileSync(whale, copy);
    const bytes = readFileSync(copy);
    writeFileSync(copy, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(await probeImage(copy, LIMIT)).toMatchObject({ ok: true });
    expect(await decodeCheck(copy)).toMatchObject({ ok: false, code: 'ASSET_CORRUPT' });
    const jpeg = join(tmp.dir, 'glade.jpg');
    const jb = readFileSync(glade);
    writeFileSync(jpeg, jb.subarray(0, Math.floor(jb.length / 2)));
    expect(await decodeCheck(jpeg)).toMatchObject({ ok: false, code: 'ASSET_CORRUPT' });
  });
});
