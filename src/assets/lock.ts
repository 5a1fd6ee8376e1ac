/**
 * `assets.lock.json`: what `packops assets` wrote, sorted by asset id and variant name
 * (code-point order), with a fixed key order, so that the same inputs give the same bytes.
 */
import { lstatSync, type BigIntStats } from 'node:fs';
import { writeFileAtomicSync, type OutputPlace } from '../shared/atomic.js';
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

/** The lock in `path`, or undefined when there is none or it is not a lock. */
export async function readLock(path: string): Promise<AssetsLock | undefined> {
  try {
    const parsed = JSON.parse(readInputSync(path, { what: 'lock file', maxBytes: MAX_LOCK_BYTES }).toString('utf8')) as AssetsLock;
    return parsed?.version === 1 && Array.isArray(parsed.assets) ? parsed : undefined;
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
  let same = false;
  try {
    const existing = readInputSync(path, { what: 'output file', maxBytes: data.length });
    same = existing.length === data.length && sha256Hex(existing) === sha256;
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
