/**
 * The pack manifest (`pack.json`), as `schemas/pack.schema.json` describes it. A test
 * checks the schema and this type against the fixtures so the two cannot drift.
 */

export const CATEGORIES = ['characters', 'environments', 'educational', 'creative_tools', 'seasonal'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CUTOUT_TYPES = ['character', 'sticker', 'effect', 'speech_bubble', 'frame', 'brush'] as const;
export const ASSET_TYPES = [...CUTOUT_TYPES, 'background'] as const;
export type AssetType = (typeof ASSET_TYPES)[number];

export interface Money {
  amountMinor: number;
  currency: string;
}

export interface ManifestAsset {
  id: string;
  file: string;
  type: AssetType;
  altText?: string;
  /** Only in built archives: the variants from assets.lock.json. */
  variants?: LockVariant[];
}

export interface PackManifest {
  schemaVersion: 1;
  slug: string;
  version: string;
  name: string;
  tagline?: string;
  description?: string;
  category: Category;
  subcategory?: string;
  tags?: string[];
  ageRange: { min: number; max: number };
  educationalObjectives?: string[];
  compatibleFeatures?: string[];
  creator: string;
  price: Money;
  markets?: Record<string, Money>;
  storeProductIds?: { appstore?: string; googleplay?: string; web?: string };
  availability?: { from?: string; until?: string };
  cover?: string;
  assets: ManifestAsset[];
  ugc?: { parentApprovalRef: string };
}

/** One entry of `assets.lock.json` (written by `packops assets`, read by `build`). */
export interface LockVariant {
  /** Path relative to the output folder, POSIX: `assets/<id>/<name>.<ext>`. */
  path: string;
  /** Variant name from asset-rules.json, e.g. "512". */
  name: string;
  format: 'webp' | 'png' | 'jpeg' | 'avif';
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  /** ThumbHash of the variant, base64. */
  placeholder: string;
}

export interface AssetsLock {
  version: 1;
  /** Per asset id, in manifest order sorted by id. */
  assets: Array<{ id: string; source: string; sourceSha256: string; variants: LockVariant[] }>;
}
