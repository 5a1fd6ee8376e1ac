/**
 * Reads an image's format, size and alpha from its header bytes, without decoding it:
 * the pixel limit is applied here, before any decoder sees the file, so a decompression
 * bomb (a tiny file that claims 30000×30000 pixels) is refused cheaply. `decodeCheck`
 * then does a full decode with sharp to catch truncated and corrupt data.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { errnoCode } from './errors.js';
import { own } from './lookup.js';

/** The image formats packops reads as sources and writes as variants. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'avif';

export type ProbeFailureCode = 'ASSET_MISSING' | 'ASSET_FORMAT' | 'ASSET_CORRUPT' | 'ASSET_TOO_LARGE';

export type ProbeResult =
  | {
      ok: true;
      format: ImageFormat;
      width: number;
      height: number;
      hasAlpha: boolean;
      /**
       * Frames the header declares: more than 1 for an animated WebP (ANMF chunks, counted up
       * to MAX_FRAMES_COUNTED) or an APNG (acTL). The app shows the first frame only.
       */
      frames: number;
      bytes: number;
    }
  | { ok: false; code: ProbeFailureCode; message: string };

export interface ProbeOptions {
  /** Images with more pixels than this are refused from the header (ASSET_TOO_LARGE). */
  maxPixels: number;
  /**
   * Whether an extension that names another image format than the bytes is an error
   * (ASSET_FORMAT: a GIF or JPEG named .png). Default true.
   */
  checkExtension?: boolean;
}

/** Formats recognised by their magic bytes; only ImageFormat ones are supported sources. */
type Detected = ImageFormat | 'gif' | 'bmp' | 'tiff' | 'heic' | 'svg' | 'ico' | 'jxl';

const EXTENSIONS: Record<string, Detected> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.avif': 'avif',
  '.gif': 'gif',
  '.bmp': 'bmp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.heic': 'heic',
  '.svg': 'svg',
  '.ico': 'ico',
  '.jxl': 'jxl',
};

const NAMES: Record<Detected, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  webp: 'WebP',
  avif: 'AVIF',
  gif: 'GIF',
  bmp: 'BMP',
  tiff: 'TIFF',
  heic: 'HEIC',
  svg: 'SVG',
  ico: 'ICO',
  jxl: 'JPEG XL',
};

export function formatName(format: string): string {
  return own<string>(NAMES, format) ?? format.toUpperCase();
}

/** The image format a file name's extension claims, if it is an image extension. */
export function formatFromExtension(path: string): string | undefined {
  return own(EXTENSIONS, extname(path).toLowerCase());
}

class Corrupt extends Error {}

interface Header {
  width: number;
  height: number;
  hasAlpha: boolean;
  frames: number;
}

/** An animated WebP's frames are counted up to this many (a chunk header read each). */
export const MAX_FRAMES_COUNTED = 10_000;

export async function probeImage(path: string, options: ProbeOptions): Promise<ProbeResult> {
  let handle: FileHandle;
  try {
    // Non-blocking: a FIFO or device named like an image must not hang the check.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, code: 'ASSET_MISSING', message: 'The file does not exist.' };
    if (code === 'EISDIR') return { ok: false, code: 'ASSET_MISSING', message: 'The path is a folder, not a file.' };
    return { ok: false, code: 'ASSET_CORRUPT', message: `The file cannot be read (${code ?? (err as Error).message}).` };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { ok: false, code: 'ASSET_MISSING', message: 'The path is not a regular file.' };
    const bytes = info.size;
    const reader = new Reader(handle, bytes);
    const head = await reader.read(0, Math.min(64, bytes));
    const detected = sniff(head);
    if (!detected) {
      return {
        ok: false,
        code: bytes === 0 ? 'ASSET_CORRUPT' : 'ASSET_FORMAT',
        message: bytes === 0 ? 'The file is empty.' : 'The file is not an image format packops recognises (PNG, JPEG or WebP).',
      };
    }
    const claimed = formatFromExtension(path);
    if (options.checkExtension !== false && claimed !== undefined && claimed !== detected) {
      return {
        ok: false,
        code: 'ASSET_FORMAT',
        message: `The file is named ${extname(path)} but its bytes are ${article(formatName(detected))} ${formatName(detected)} image.`,
      };
    }
    if (claimed === undefined && options.checkExtension !== false) {
      return {
        ok: false,
        code: 'ASSET_FORMAT',
        message: `The file's name has no image extension (its bytes are ${article(formatName(detected))} ${formatName(detected)} image).`,
      };
    }
    let header: Header;
    switch (detected) {
      case 'png':
        header = await pngHeader(reader);
        break;
      case 'jpeg':
        header = await jpegHeader(reader);
        break;
      case 'webp':
        header = await webpHeader(reader);
        break;
      default:
        return {
          ok: false,
          code: 'ASSET_FORMAT',
          message: `${formatName(detected)} is not a supported source format; use PNG, JPEG or WebP.`,
        };
    }
    if (header.width <= 0 || header.height <= 0) throw new Corrupt('the header gives a zero width or height');
    const pixels = header.width * header.height;
    if (pixels > options.maxPixels) {
      return {
        ok: false,
        code: 'ASSET_TOO_LARGE',
        message: `The image is ${header.width}×${header.height} (${megapixels(pixels)} megapixels); at most ${megapixels(options.maxPixels)} megapixels are accepted. It was not decoded.`,
      };
    }
    return { ok: true, format: detected, width: header.width, height: header.height, hasAlpha: header.hasAlpha, frames: header.frames, bytes };
  } catch (err) {
    if (err instanceof Corrupt) return { ok: false, code: 'ASSET_CORRUPT', message: `The image header is damaged: ${err.message}.` };
    throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Decodes every pixel with sharp, failing on truncated or corrupt data. Call it only
 * after `probeImage` accepted the file (the pixel limit is applied there, and again here).
 */
export async function decodeCheck(
  path: string,
  options: { maxPixels?: number; allFrames?: boolean } = {},
): Promise<{ ok: true } | { ok: false; code: 'ASSET_CORRUPT' | 'ASSET_TOO_LARGE'; message: string }> {
  const { default: sharp } = await import('sharp');
  const maxPixels = options.maxPixels ?? 100_000_000;
  try {
    // `allFrames`: every frame of an animation is decoded (libvips stacks them into one
    // image, so the pixel limit bounds all frames together), so damage in a later frame is
    // found too.
    await sharp(path, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true, ...(options.allFrames === true ? { pages: -1 } : {}) })
      .raw()
      .toBuffer();
    return { ok: true };
  } catch (err) {
    const detail = (err as Error).message.split('\n')[0]?.trim() ?? '';
    if (options.allFrames === true && /pixel limit/i.test(detail)) {
      return {
        ok: false,
        code: 'ASSET_TOO_LARGE',
        message: `The animation's frames together are over ${megapixels(maxPixels)} megapixels; they were not decoded.`,
      };
    }
    return { ok: false, code: 'ASSET_CORRUPT', message: `The image data is truncated or corrupt${detail ? ` (${detail})` : ''}.` };
  }
}

function article(word: string): string {
  return /^[AEIOU]/i.test(word) && !/^(JPEG|WebP)/.test(word) ? 'an' : 'a';
}

function megapixels(pixels: number): string {
  return (pixels / 1_000_000).toFixed(pixels % 1_000_000 === 0 ? 0 : 1);
}

/** Positional reads that fail as "corrupt" when the file ends early. */
class Reader {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async read(position: number, length: number): Promise<Buffer> {
    if (position < 0 || position + length > this.size) throw new Corrupt('the file ends inside the header');
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, position);
    if (bytesRead < length) throw new Corrupt('the file ends inside the header');
    return buf;
  }
}

function sniff(b: Buffer): Detected | undefined {
  const ascii = (start: number, s: string) => b.length >= start + s.length && b.toString('latin1', start, start + s.length) === s;
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'tiff';
  if (ascii(4, 'ftyp')) {
    const brand = b.toString('latin1', 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (/^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand)) return 'heic';
  }
  if (b.length >= 4 && b.readUInt32BE(0) === 0x00000100) return 'ico';
  if ((b[0] === 0xff && b[1] === 0x0a) || ascii(4, 'JXL ')) return 'jxl';
  const text = b.toString('latin1').trimStart();
  if (text.startsWith('<svg') || text.startsWith('<?xml')) return 'svg';
  return undefined;
}

/**
 * IHDR gives the size; colour type 4/6 or a tRNS chunk before IDAT gives alpha; an acTL
 * chunk before IDAT (APNG) gives the number of frames.
 */
async function pngHeader(r: Reader): Promise<Header> {
  const ihdr = await r.read(8, 25);
  if (ihdr.readUInt32BE(0) !== 13 || ihdr.toString('latin1', 4, 8) !== 'IHDR') throw new Corrupt('the PNG does not start with an IHDR chunk');
  const width = ihdr.readUInt32BE(8);
  const height = ihdr.readUInt32BE(12);
  const colourType = ihdr[17]!;
  if (![0, 2, 3, 4, 6].includes(colourType)) throw new Corrupt(`unknown PNG colour type ${colourType}`);
  let hasAlpha = colourType === 4 || colourType === 6;
  let frames = 1;
  // Walk the chunks up to the first IDAT looking for tRNS (transparency for types 0, 2, 3)
  // and acTL (both must come before the image data).
  let pos = 33;
  for (let guard = 0; guard < 10_000; guard++) {
    if (pos + 8 > r.size) throw new Corrupt('the PNG ends before its image data');
    const chunk = await r.read(pos, 8);
    const length = chunk.readUInt32BE(0);
    const type = chunk.toString('latin1', 4, 8);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'tRNS') hasAlpha = true;
    if (type === 'acTL' && length >= 8) frames = Math.max(1, (await r.read(pos + 8, 4)).readUInt32BE(0));
    pos += 12 + length;
  }
  return { width, height, hasAlpha, frames };
}

/** The first SOFn segment gives the size; JPEG has no alpha channel. */
async function jpegHeader(r: Reader): Promise<Header> {
  let pos = 2;
  for (let guard = 0; guard < 100_000; guard++) {
    const marker = await r.read(pos, 2);
    if (marker[0] !== 0xff) throw new Corrupt('a JPEG segment does not start with a marker');
    const type = marker[1]!;
    if (type === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (type === 0xd8 || type === 0x01 || (type >= 0xd0 && type <= 0xd7)) {
      pos += 2; // markers without a length
      continue;
    }
    if (type === 0xd9 || type === 0xda) throw new Corrupt('the JPEG has no frame header before its image data');
    const length = (await r.read(pos + 2, 2)).readUInt16BE(0);
    if (length < 2) throw new Corrupt('a JPEG segment has an impossible length');
    const isSof = type >= 0xc0 && type <= 0xcf && type !== 0xc4 && type !== 0xc8 && type !== 0xcc;
    if (isSof) {
      const sof = await r.read(pos + 4, 6);
      return { height: sof.readUInt16BE(1), width: sof.readUInt16BE(3), hasAlpha: false, frames: 1 };
    }
    pos += 2 + length;
  }
  throw new Corrupt('too many JPEG segments');
}

/** VP8 (lossy), VP8L (lossless) or VP8X (extended, with an alpha flag). */
async function webpHeader(r: Reader): Promise<Header> {
  const chunk = await r.read(12, 8);
  const type = chunk.toString('latin1', 0, 4);
  if (type === 'VP8X') {
    const b = await r.read(20, 10);
    const width = 1 + (b[4]! | (b[5]! << 8) | (b[6]! << 16));
    const height = 1 + (b[7]! | (b[8]! << 8) | (b[9]! << 16));
    const animated = (b[0]! & 0x02) !== 0;
    return { width, height, hasAlpha: (b[0]! & 0x10) !== 0, frames: animated ? await webpFrames(r, 12 + 8 + chunk.readUInt32LE(4)) : 1 };
  }
  if (type === 'VP8L') {
    const b = await r.read(20, 5);
    if (b[0] !== 0x2f) throw new Corrupt('bad VP8L signature');
    const bits = b.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, hasAlpha: ((bits >>> 28) & 1) === 1, frames: 1 };
  }
  if (type === 'VP8 ') {
    const b = await r.read(20, 10);
    if (b[3] !== 0x9d || b[4] !== 0x01 || b[5] !== 0x2a) throw new Corrupt('bad VP8 start code');
    return { width: b.readUInt16LE(6) & 0x3fff, height: b.readUInt16LE(8) & 0x3fff, hasAlpha: false, frames: 1 };
  }
  throw new Corrupt(`unknown WebP chunk "${type}"`);
}

/**
 * The ANMF (frame) chunks of an animated WebP, from the chunk after VP8X to the end of the
 * RIFF data, counted up to MAX_FRAMES_COUNTED (each costs an 8-byte read). A chunk that runs
 * past the end of the file ends the count; the decode check reports the damage.
 */
async function webpFrames(r: Reader, start: number): Promise<number> {
  let frames = 0;
  let pos = start + (start % 2); // chunks are padded to an even size
  for (let guard = 0; guard < MAX_FRAMES_COUNTED * 2 && frames < MAX_FRAMES_COUNTED && pos + 8 <= r.size; guard++) {
    const chunk = await r.read(pos, 8);
    if (chunk.toString('latin1', 0, 4) === 'ANMF') frames++;
    const size = chunk.readUInt32LE(4);
    pos += 8 + size + (size % 2);
  }
  return Math.max(1, frames);
}
