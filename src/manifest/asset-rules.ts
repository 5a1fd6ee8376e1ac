/**
 * Asset rules live in data (`schemas/asset-rules.json`), loaded from the installed
 * package, never from the working directory.
 */
import { readFileSync } from 'node:fs';
import type { ImageFormat } from '../shared/image-probe.js';
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
