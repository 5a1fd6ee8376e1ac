/**
 * Real images for the asset tests, made with sharp in a temporary folder: cut-outs with
 * alpha, photos with GPS EXIF, a rotated phone photo, CMYK and 16-bit files, and hostile
 * files (truncated, a decompression bomb header, a GIF named .png).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

function ensureDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
}

/** A cut-out: a coloured disc with a soft shadow on a transparent square. */
export async function cutout(path: string, size = 512, colour = '#2f80ed'): Promise<void> {
  ensureDir(path);
  const r = Math.round(size * 0.4);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
    <defs><radialGradient id="g"><stop offset="0" stop-color="#ffffff"/><stop offset="1" stop-color="${colour}"/></radialGradient></defs>
    <circle cx="${size / 2}" cy="${size / 2}" r="${r}" fill="url(#g)"/>
    <circle cx="${size / 2 - r / 3}" cy="${size / 2 - r / 4}" r="${r / 8}" fill="#1d1d2b"/>
    <circle cx="${size / 2 + r / 3}" cy="${size / 2 - r / 4}" r="${r / 8}" fill="#1d1d2b"/></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
}

/** A smooth "photo" (gradient with shapes), opaque. */
function photoSvg(width: number, height: number): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#7ec8e3"/><stop offset="1" stop-color="#f6e7b4"/></linearGradient></defs>
    <rect width="${width}" height="${height}" fill="url(#sky)"/>
    <ellipse cx="${width * 0.5}" cy="${height}" rx="${width * 0.7}" ry="${height * 0.35}" fill="#3c8d40"/>
    <circle cx="${width * 0.8}" cy="${height * 0.2}" r="${height * 0.1}" fill="#ffd23f"/></svg>`);
}

/** An opaque JPEG background carrying GPS coordinates, a camera model, XMP and a comment-like description. */
export async function gpsPhoto(path: string, width = 2048, height = 1536): Promise<void> {
  ensureDir(path);
  await sharp(photoSvg(width, height))
    .flatten({ background: '#ffffff' })
    .withExif({
      IFD0: { Make: 'PhoneMaker', Model: 'Phone 12', ImageDescription: 'Kids at the park', Artist: 'Parent' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '51/1 30/1 2615/100',
        GPSLongitudeRef: 'W',
        GPSLongitude: '0/1 7/1 3942/100',
      },
    })
    .withXmp(
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Parent</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>',
    )
    .jpeg({ quality: 90 })
    .toFile(path);
}

/**
 * A phone photo stored sideways: 1200×800 pixels, left half red and right half blue, with
 * EXIF orientation 6 (display rotated 90° clockwise): upright it is 800×1200, red on top.
 */
export async function rotatedPhoto(path: string): Promise<void> {
  ensureDir(path);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800"><rect width="600" height="800" fill="#ff0000"/><rect x="600" width="600" height="800" fill="#0000ff"/></svg>`;
  await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toFile(path);
}

/** A CMYK JPEG (print workflows export these). */
export async function cmykJpeg(path: string): Promise<void> {
  ensureDir(path);
  await sharp(photoSvg(1600, 1200)).flatten({ background: '#ffffff' }).toColourspace('cmyk').jpeg({ quality: 90 }).toFile(path);
}

/** A 16-bit-per-channel RGBA PNG. */
export async function png16(path: string, size = 600): Promise<void> {
  ensureDir(path);
  const inner = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><circle cx="${size / 2}" cy="${size / 2}" r="${size * 0.4}" fill="#e67e22"/></svg>`,
  );
  await sharp(inner).toColourspace('rgb16').png().toFile(path);
}

/** A photo with strong noise: incompressible, so its variants go over their byte budgets. */
export async function noisyPhoto(path: string, width = 2048, height = 1536): Promise<void> {
  ensureDir(path);
  await sharp({ create: { width, height, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .jpeg({ quality: 95 })
    .toFile(path);
}

/** The first half of a real PNG: a valid header, then nothing. */
export async function truncatedPng(path: string): Promise<void> {
  ensureDir(path);
  const whole = await sharp({ create: { width: 600, height: 600, channels: 4, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .png()
    .toBuffer();
  writeFileSync(path, whole.subarray(0, Math.floor(whole.length / 2)));
}

/**
 * A decompression bomb: a small real PNG whose IHDR is rewritten (with a valid CRC) to
 * claim 30000×30000 pixels (900 megapixels).
 */
export async function bombPng(path: string, side = 30000): Promise<void> {
  ensureDir(path);
  const png = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 4, background: '#00000000' } }).png().toBuffer());
  png.writeUInt32BE(side, 16);
  png.writeUInt32BE(side, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  writeFileSync(path, png);
}

/** A GIF saved under a .png name. */
export async function gifNamedPng(path: string): Promise<void> {
  ensureDir(path);
  await sharp({ create: { width: 512, height: 512, channels: 4, background: '#ff000080' } }).gif().toFile(path);
}

export interface TestAsset {
  id: string;
  file: string;
  type: string;
}

/** Writes a valid first-party pack.json naming `assets`. */
export function writeManifest(dir: string, assets: TestAsset[], overrides: Record<string, unknown> = {}): void {
  const manifest = {
    schemaVersion: 1,
    slug: 'test-pack',
    version: '1.0.0',
    name: 'Test Pack',
    description: 'A pack made by the asset tests, with art generated by sharp.',
    category: 'characters',
    ageRange: { min: 3, max: 8 },
    creator: 'ana-lima',
    price: { amountMinor: 199, currency: 'USD' },
    assets: assets.map((a) => ({ ...a, altText: `The ${a.id} test image` })),
    ...overrides,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pack.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** A real cut-out PNG of any size: noise on a half-transparent ground (small files for long, thin shapes). */
export async function sizedCutout(path: string, width: number, height: number): Promise<void> {
  ensureDir(path);
  await sharp({ create: { width, height, channels: 4, background: '#2f80ed80' } }).png().toFile(path);
}

/** The first half of a real PNG of the given size: its header is sound, its pixels are not. */
export async function truncatedSizedPng(path: string, width: number, height: number): Promise<void> {
  ensureDir(path);
  const whole = await sharp({ create: { width, height, channels: 4, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .png()
    .toBuffer();
  writeFileSync(path, whole.subarray(0, Math.floor(whole.length / 2)));
}

/**
 * A real animated WebP (sharp `join: { animated: true }`): `frames` lossless 300×300
 * cut-outs, plain colours (small variants) or noisy ones for `damageLast`: the start of the
 * last frame's VP8L bitstream is inverted, so the file parses and its first frame decodes,
 * but the last frame does not.
 */
export async function animatedWebp(path: string, frames = 3, damageLast = false): Promise<void> {
  const noise = damageLast ? { noise: { type: 'gaussian' as const, mean: 128, sigma: 30 } } : {};
  ensureDir(path);
  const colours = ['#ff000080', '#00ff0080', '#0000ff80', '#ffff0080'];
  const pngs = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width: 300, height: 300, channels: 4, background: colours[i % colours.length]!, ...noise } })
        .png()
        .toBuffer(),
    ),
  );
  const webp = Buffer.from(await sharp(pngs, { join: { animated: true } }).webp({ loop: 0, lossless: true }).toBuffer());
  if (damageLast) {
    const bitstream = webp.indexOf(Buffer.from('VP8L'), webp.lastIndexOf(Buffer.from('ANMF'))) + 8 + 5;
    for (let i = bitstream; i < bitstream + 40; i++) webp[i] = 0xff ^ webp[i]!;
  }
  writeFileSync(path, webp);
}

/**
 * An APNG header on a real PNG: an acTL chunk declaring `frames` frames, with a valid CRC,
 * inserted after IHDR (libvips decodes the default image; packops reads the declaration).
 */
export async function apngDeclaring(path: string, frames: number): Promise<void> {
  ensureDir(path);
  const png = await sharp({ create: { width: 300, height: 300, channels: 4, background: '#ff000080' } }).png().toBuffer();
  const data = Buffer.alloc(8);
  data.writeUInt32BE(frames, 0); // num_frames
  const body = Buffer.concat([Buffer.from('acTL'), data]);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 8 + data.length);
  writeFileSync(path, Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]));
}
