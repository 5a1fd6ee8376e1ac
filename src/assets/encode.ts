/**
 * The sharp work of `packops assets`: decode a source once (auto-oriented from EXIF,
 * converted to 8-bit sRGB, resized once to the largest variant box), then encode every
 * variant from those resized pixels. Metadata (EXIF, GPS, XMP, IPTC, ICC, comments) never
 * reaches an output: sharp drops it unless asked to keep it, and nothing here asks.
 */
import sharp from 'sharp';
import type { AvifOptions, JpegOptions, PngOptions, Sharp, WebpOptions } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { VariantRule } from '../manifest/asset-rules.js';
import type { ImageFormat } from '../shared/image-probe.js';

/** Bump when the encoding changes in a way that changes output bytes (invalidates the cache). */
export const PIPELINE_VERSION = 1;

/** The side of the render a ThumbHash is computed from (ThumbHash wants at most 100×100). */
const PLACEHOLDER_BOX = 100;

export interface EncodedVariant {
  rule: VariantRule;
  format: ImageFormat;
  data: Buffer;
  width: number;
  height: number;
}

export interface EncodedAsset {
  variants: EncodedVariant[];
  /** ThumbHash (base64) of the asset, from a ≤100×100 RGBA render of the resized pixels. */
  placeholder: string;
}

export interface DecodeLimits {
  /** Inputs over this many pixels are refused by libvips too (besides the header probe). */
  maxPixels: number;
}

/** Library and encoder identity: part of every cache key. */
export function encoderFingerprint(): Record<string, string | number> {
  return { pipeline: PIPELINE_VERSION, sharp: sharp.versions.sharp ?? 'unknown', vips: sharp.versions.vips };
}

/**
 * Bounds memory and CPU for `jobs` images processed at once: libvips' operation cache is
 * off (every source is read once, so it would only hold memory), and the libvips threads
 * per image are the cores left per job, so that `jobs` images together use every core once.
 */
export function configureSharp(jobs: number, cores: number): void {
  sharp.cache(false);
  sharp.concurrency(Math.max(1, Math.floor(cores / Math.max(1, jobs))));
}

/** The box the source is resized to once: large enough for every variant. */
export function intermediateBox(variants: readonly VariantRule[]): { width: number; height: number } {
  return {
    width: Math.max(...variants.map((v) => v.width)),
    height: Math.max(...variants.map((v) => v.height)),
  };
}

/** The encoder settings of a variant (also what the cache key holds). */
export function encoderOptions(rule: VariantRule): Record<string, unknown> {
  switch (rule.format) {
    case 'webp':
      return { quality: rule.quality ?? 80, effort: 4 };
    case 'avif':
      return { quality: rule.quality ?? 50, effort: 4 };
    case 'jpeg':
      return { quality: rule.quality ?? 82, mozjpeg: true };
    case 'png':
      return { compressionLevel: 9, adaptiveFiltering: true };
  }
}

function encoder(pipeline: Sharp, rule: VariantRule, hasAlpha: boolean): Sharp {
  const options = encoderOptions(rule);
  switch (rule.format) {
    case 'webp':
      return pipeline.webp(options as WebpOptions);
    case 'avif':
      return pipeline.avif(options as AvifOptions);
    case 'jpeg':
      // JPEG has no alpha: flatten onto white rather than let transparent pixels go black.
      return (hasAlpha ? pipeline.flatten({ background: '#ffffff' }) : pipeline).jpeg(options as JpegOptions);
    case 'png':
      return pipeline.png(options as PngOptions);
  }
}

/**
 * Decodes `source` once and encodes every variant. Throws sharp's error for a file libvips
 * cannot decode (truncated, corrupt, over the pixel limit); the caller turns it into a finding.
 */
export async function encodeAsset(source: string, variants: readonly VariantRule[], limits: DecodeLimits): Promise<EncodedAsset> {
  const box = intermediateBox(variants);
  const { data: pixels, info } = await sharp(source, {
    limitInputPixels: limits.maxPixels,
    failOn: 'error',
    sequentialRead: true,
  })
    .autoOrient()
    .resize({ width: box.width, height: box.height, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const hasAlpha = info.channels === 4 || info.channels === 2;

  // The variants (and the placeholder render) are encoded side by side from the same
  // pixels: libwebp and libspng encode on one thread each, so this keeps the libuv pool
  // busy while `--concurrency` bounds the images (and raw buffers) in memory.
  const encodeOne = async (rule: VariantRule): Promise<EncodedVariant> => {
    let pipeline = sharp(pixels, raw);
    if (info.width > rule.width || info.height > rule.height) {
      pipeline = pipeline.resize({ width: rule.width, height: rule.height, fit: 'inside', withoutEnlargement: true });
    }
    const out = await encoder(pipeline, rule, hasAlpha).toBuffer({ resolveWithObject: true });
    return { rule, format: rule.format, data: out.data, width: out.info.width, height: out.info.height };
  };
  const placeholder = async (): Promise<string> => {
    const thumb = await sharp(pixels, raw)
      .resize({ width: PLACEHOLDER_BOX, height: PLACEHOLDER_BOX, fit: 'inside', withoutEnlargement: true })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return Buffer.from(rgbaToThumbHash(thumb.info.width, thumb.info.height, thumb.data)).toString('base64');
  };
  const [encoded, hash] = await Promise.all([Promise.all(variants.map(encodeOne)), placeholder()]);
  return { variants: encoded, placeholder: hash };
}
