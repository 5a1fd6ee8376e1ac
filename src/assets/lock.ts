/**
 * `assets.lock.json`: what `packops assets` wrote, sorted by asset id and variant name
 * (code-point order), with a fixed key order, so that the same inputs give the same bytes.
 */
import { lstatSync, type BigIntStats } from 'node:fs';
import { statOutput, writeFileAtomicSync, type OutputPlace } from '../shared/atomic.js';
import { readInputSync } from '../shared/input.js';
import { compareCodePoints } from '../shared/money.js';
import type { AssetsLock, LockVariant } from '../manifest/types.js';
import { sha256Hex } from './cache.js';

export const LOCK_FILE = 'assets.lock.json';
/** A lock file larger than this is not one packops wrote. */
const MAX_LOCK_BYTES = 64 * 1024 * 1024;

/** `assets/<id>/<name>.<ext>`, POSIX, relative to the output folder. */
export function variantPath(id: string, name: string, format: string): string {
  return `assets/${id}/${name}.${format}`;
}

/**
 * The only shape `variantPath` makes (an asset id, a variant name and a format of the
 * rules): no `.` or `..` segment, no absolute path, no backslash, nothing deeper. A path in
 * a lock read back from an output folder is trusted for nothing else.
 */
const VARIANT_PATH = /^assets\/[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9_-]*\.(?:png|jpeg|webp|avif)$/;

export function isVariantPath(path: unknown): path is string {
  return typeof path === 'string' && VARIANT_PATH.test(path);
}

export function sortLock(lock: AssetsLock): AssetsLock {
  return {
    version: 1,
    assets: [...lock.assets]
      .sort((a, b) => compareCodePoints(a.id, b.id))
      .map((a) => ({
        id: a.id,
        source: a.source,
        sourceSha256: a.sourceSha256,
        variants: [...a.variants].sort((x, y) => compareCodePoints(x.name, y.name)).map(canonicalVariant),
      })),
  };
}

function canonicalVariant(v: LockVariant): LockVariant {
  return {
    path: v.path,
    name: v.name,
    format: v.format,
    width: v.width,
    height: v.height,
    bytes: v.bytes,
    sha256: v.sha256,
    placeholder: v.placeholder,
  };
}

export function serializeLock(lock: AssetsLock): string {
  return `${JSON.stringify(sortLock(lock), null, 2)}\n`;
}

/**
 * The lock in `path`, or undefined when there is none or it is not a lock. With `place`, the
 * lock is read only when it is a regular file reached with no link below `place.base`
 * (`statOutput`, which throws for a link or a file on the way). A lock read back from an output folder is creator input when that folder
 * is in a pack: what it says is sorted into shape here (entries that are not objects, or
 * variants without a string path, are dropped), and its paths are checked by each reader
 * (`isVariantPath` and `statOutput`) before a file is touched.
 */
export async function readLock(path: string, place?: OutputPlace & { base: string }): Promise<AssetsLock | undefined> {
  // A link or a file on the way below `base` is an error (OUTPUT_UNWRITABLE), not "no lock".
  const info = place === undefined ? undefined : statOutput(path, place);
  if (place !== undefined && !info?.isFile()) return undefined;
  try {
    const parsed = JSON.parse(
      readInputSync(path, { what: 'lock file', maxBytes: MAX_LOCK_BYTES }, info !== undefined ? { stats: info } : {}).toString('utf8'),
    ) as { version?: unknown; assets?: unknown } | null;
    if (parsed?.version !== 1 || !Array.isArray(parsed.assets)) return undefined;
    const assets: AssetsLock['assets'] = [];
    for (const a of parsed.assets as unknown[]) {
      const entry = a as Partial<AssetsLock['assets'][number]> | null;
      if (typeof entry !== 'object' || entry === null || typeof entry.id !== 'string' || !Array.isArray(entry.variants)) continue;
      const variants = (entry.variants as unknown[]).filter(
        (v): v is LockVariant => typeof v === 'object' && v !== null && typeof (v as LockVariant).path === 'string',
      );
      assets.push({ ...(entry as AssetsLock['assets'][number]), variants });
    }
    return { version: 1, assets };
  } catch {
    return undefined;
  }
}

/**
 * Writes an output atomically, unless the file already holds exactly these bytes (a warm
 * run then rewrites nothing, and file times stay put for tools that watch them). Returns
 * the file's status as it now is (undefined if it cannot be read back), for the record. Variants
 * are written with `sync: false` (atomic, not flushed one by one: their SHA-256 is in the
 * lock, which is flushed); the lock itself is flushed.
 */
export async function writeOutputFile(
  path: string,
  data: Uint8Array,
  sha256 = sha256Hex(data),
  options: { sync?: boolean } & OutputPlace = {},
): Promise<BigIntStats | undefined> {
  // Synchronous on purpose (see cache.ts): async fs calls would queue behind sharp's encodes.
  // Only a regular file no larger than the new bytes is compared (never a FIFO or device).
  // A link there is never read through (it is replaced by the rename, never followed).
  let same = false;
  try {
    const info = lstatSync(path);
    if (info.isFile() && info.size === data.length) {
      const existing = readInputSync(path, { what: 'output file', maxBytes: data.length }, { stats: info });
      same = existing.length === data.length && sha256Hex(existing) === sha256;
    }
  } catch {
    // Missing or unreadable: write it.
  }
  if (!same) writeFileAtomicSync(path, data, options);
  // What the file looks like now, for the cache's record of outputs (cache.ts `holds`).
  try {
    const st = lstatSync(path, { bigint: true });
    return st.isFile() && st.size === BigInt(data.length) ? st : undefined;
  } catch {
    return undefined;
  }
}
