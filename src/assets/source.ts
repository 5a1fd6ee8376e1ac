/**
 * Resolving an asset's source file: it must exist and stay inside the pack folder once
 * links are followed, and its id must be usable as an output folder name.
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { errnoCode } from '../shared/errors.js';
import { isInside } from '../shared/paths.js';
import type { Finding } from '../shared/findings.js';
import { checkManifest } from '../manifest/check.js';
import { locateFindings } from '../manifest/position.js';
import type { ManifestAsset } from '../manifest/types.js';

export type SourceResolution = { ok: true; path: string } | { ok: false; code: string; message: string; hint?: string };

const SAFE_ID = /^[a-z0-9][a-z0-9-]*$/;

/** `packReal` is the pack folder with links resolved (`realpath`). */
export async function resolveAssetSource(packReal: string, asset: ManifestAsset): Promise<SourceResolution> {
  if (!SAFE_ID.test(asset.id)) {
    return { ok: false, code: 'PATH_UNSAFE', message: `Asset id "${asset.id}" cannot name an output folder.` };
  }
  let real: string;
  try {
    real = realpathSync(resolve(packReal, asset.file));
    if (!statSync(real).isFile()) {
      return { ok: false, code: 'ASSET_MISSING', message: `Asset "${asset.id}": ${asset.file} is not a file.` };
    }
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? { ok: false, code: 'ASSET_MISSING', message: `Asset "${asset.id}": ${asset.file} does not exist.`, hint: 'Check the file name in pack.json.' }
      : { ok: false, code: 'ASSET_CORRUPT', message: `Asset "${asset.id}": ${asset.file} cannot be read (${code ?? 'error'}).` };
  }
  if (real === packReal || !isInside(real, packReal)) {
    return { ok: false, code: 'PATH_UNSAFE', message: `Asset "${asset.id}": ${asset.file} leaves the pack folder.` };
  }
  return { ok: true, path: real };
}

/** The message of an error sharp threw while decoding a source, as a finding code and reason. */
export function classifyDecodeError(err: unknown): { code: 'ASSET_TOO_LARGE' | 'ASSET_CORRUPT'; reason: string } {
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
  return { code: /pixel limit/i.test(reason) ? 'ASSET_TOO_LARGE' : 'ASSET_CORRUPT', reason };
}

/** Manifest problems that make the asset list unusable: ids become folder names. */
const BLOCKING_POINTER = /^\/assets(\/\d+(\/(id|type))?)?$/;
/** Problems with one asset's file path: that asset is skipped, the others go on. */
const ASSET_FILE_POINTER = /^\/assets\/(\d+)\/file$/;

export interface ManifestGate {
  /** Findings that stop the whole run before any file is touched. */
  blocking: Finding[];
  /** Findings that stop one asset (by index in `assets`), such as an unsafe file path. */
  perAsset: Map<number, Finding[]>;
}

/**
 * Sorts the manifest findings `assets` and `preview` act on: the asset list missing or
 * malformed, an asset without a usable id or type, duplicate ids stop everything; a bad
 * file path stops its asset. Other manifest problems (prices, cover, texts) are
 * `validate`'s to report and do not stop the art. Findings are placed in `text`.
 */
export function gateManifest(value: unknown, text: string, file: string): ManifestGate {
  const checked = checkManifest(value);
  const blocking: Finding[] = [];
  const perAsset = new Map<number, Finding[]>();
  for (const f of checked.findings) {
    if (f.severity !== 'error') continue;
    const fileMatch = f.pointer === undefined ? null : ASSET_FILE_POINTER.exec(f.pointer);
    if (fileMatch) {
      const index = Number(fileMatch[1]);
      perAsset.set(index, [...(perAsset.get(index) ?? []), f]);
    } else if (f.code === 'ASSET_ID_DUPLICATE' || (f.pointer !== undefined && BLOCKING_POINTER.test(f.pointer))) {
      blocking.push(f);
    }
  }
  const assets = (value as { assets?: unknown } | null)?.assets;
  if (blocking.length === 0 && !Array.isArray(assets)) {
    blocking.push({ code: 'SCHEMA', severity: 'error', pointer: '', message: 'The manifest has no "assets" list.' });
  }
  const all = [...blocking, ...[...perAsset.values()].flat()];
  for (const f of all) f.file ??= file;
  locateFindings(text, all, checked.atKey);
  return { blocking, perAsset };
}
