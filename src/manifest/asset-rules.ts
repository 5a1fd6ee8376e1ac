/**
 * Asset rules live in data (`schemas/asset-rules.json`), loaded from the installed
 * package, never from the working directory.
 */
import { readFileSync } from 'node:fs';
import { formatName, MAX_FRAMES_COUNTED, type ImageFormat } from '../shared/image-probe.js';
import type { AssetType } from './types.js';

export interface VariantRule {
  name: string;
  format: ImageFormat;
  /** The box the variant is resized to fit into (never enlarged). */
  width: number;
  height: number;
  quality?: number;
  budgetBytes: number;
}

export interface AssetTypeRule {
  description: string;
  alpha: 'required' | 'optional';
  /** Source formats accepted. */
  formats: ImageFormat[];
  minLongEdge: number;
  maxLongEdge: number;
  /** Source file size limit in bytes. */
  maxBytes: number;
  variants: VariantRule[];
}

export interface AssetRules {
  version: 1;
  /** Inputs over this many pixels are refused from their header, before decoding. */
  maxSourcePixels: number;
  types: Record<AssetType, AssetTypeRule>;
}

export const ASSET_RULES_URL = new URL('../../schemas/asset-rules.json', import.meta.url);

let cached: AssetRules | undefined;

export function loadAssetRules(): AssetRules {
  if (cached === undefined) {
    const parsed = JSON.parse(readFileSync(ASSET_RULES_URL, 'utf8')) as AssetRules;
    // A null-prototype table: `rules.types[x]` can never reach Object.prototype.
    cached = { ...parsed, types: Object.assign(Object.create(null) as Record<AssetType, AssetTypeRule>, parsed.types) };
  }
  return cached;
}

/**
 * The rule of an asset type named by data (a manifest's `type`): undefined for anything
 * that is not one of the rule table's own keys (`__proto__`, `constructor`, `toString`...).
 */
export function assetTypeRule(rules: AssetRules, type: unknown): AssetTypeRule | undefined {
  return typeof type === 'string' && Object.hasOwn(rules.types, type) ? rules.types[type as AssetType] : undefined;
}

/** What an image's header says, as far as the type rules look at it. */
export interface ImageShape {
  format: ImageFormat;
  width: number;
  height: number;
}

export interface RuleProblem {
  code: 'ASSET_FORMAT' | 'ASSET_TOO_SMALL' | 'ASSET_TOO_LARGE';
  /** Starts in lower case, to follow "Asset "id" (file): ". */
  message: string;
  hint?: string;
}

/**
 * The type rule an image must meet before it is decoded at all, from its header: a format
 * the type accepts, and a long edge within the type's minimum and maximum. One check for
 * `validate` and `assets` (which never encodes an image this refuses), so both refuse the
 * same files with the same words. Undefined when the image may be decoded.
 */
export function assetShapeProblem(rule: AssetTypeRule, type: string, image: ImageShape): RuleProblem | undefined {
  if (!(rule.formats as string[]).includes(image.format)) {
    return {
      code: 'ASSET_FORMAT',
      message: `a ${type} must be ${rule.formats.map(formatName).join(' or ')}; this file is ${formatName(image.format)}.`,
      ...(rule.alpha === 'required' ? { hint: 'Cut-outs need a format with transparency.' } : {}),
    };
  }
  const shape = `${image.width}×${image.height}`;
  const longEdge = Math.max(image.width, image.height);
  if (longEdge < rule.minLongEdge) {
    return { code: 'ASSET_TOO_SMALL', message: `the image is ${shape}; a ${type} needs a long edge of at least ${rule.minLongEdge} px.` };
  }
  if (longEdge > rule.maxLongEdge) {
    return { code: 'ASSET_TOO_LARGE', message: `the image is ${shape}; a ${type} may have a long edge of at most ${rule.maxLongEdge} px.` };
  }
  return undefined;
}

/**
 * The warning for an image with more than one frame (an animated WebP or APNG): packops and
 * the app use the first frame only. One wording for `validate` and `assets`.
 */
export function animationWarning(image: { format: ImageFormat; frames: number }): { code: 'ASSET_ANIMATED'; message: string; hint: string } | undefined {
  if (image.frames <= 1) return undefined;
  return {
    code: 'ASSET_ANIMATED',
    message: `the ${formatName(image.format)} is animated (${image.frames}${image.frames >= MAX_FRAMES_COUNTED ? ' or more' : ''} frames); the app shows its first frame only, and the variants are made from it.`,
    hint: 'Export the frame you want shown as a still image, or keep the animation out of the pack.',
  };
}
