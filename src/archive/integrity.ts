/**
 * What a pack archive holds and how its contents are described: INTEGRITY.json, the
 * trusted comment, stable JSON, and the rule for safe entry names. Shared by build and
 * verify so that the two cannot disagree.
 */
import { setOwn } from '../shared/lookup.js';

export const PACK_JSON = 'pack.json';
export const INTEGRITY_JSON = 'INTEGRITY.json';
export const INTEGRITY_SIG = 'INTEGRITY.json.minisig';
/**
 * Largest pack.json, INTEGRITY.json or signature entry an archive may hold (they are read
 * into memory to be parsed). pack.json in an archive is the source manifest (at most 1 MiB,
 * checked again once its `variants` arrays are set aside) plus one variant record per file,
 * and INTEGRITY.json lists every file: with up to 10,000 entries both pass 1 MiB in a
 * large but ordinary pack, so the bound is 16 MiB, not the source manifest's 1 MiB.
 */
export const METADATA_ENTRY_MAX = 16 * 1024 * 1024;

export interface IntegrityFile {
  path: string;
  size: number;
  sha256: string;
}

export interface IntegrityDocument {
  version: 1;
  algorithm: 'sha256';
  files: IntegrityFile[];
}

/** Code-point order, the order of entries and of INTEGRITY.json. */
export function byPath<T extends { path: string }>(a: T, b: T): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * Stable JSON: object keys sorted by code point at every level, two-space indentation,
 * a final newline. The same value always gives the same bytes.
 */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) setOwn(out, key, sortKeys(v));
    }
    return out;
  }
  return value;
}

export function integrityDocument(files: readonly IntegrityFile[]): IntegrityDocument {
  return {
    version: 1,
    algorithm: 'sha256',
    files: [...files].map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })).sort(byPath),
  };
}

/** INTEGRITY.json as written into archives (its key order is the documented one). */
export function serializeIntegrity(doc: IntegrityDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Parses INTEGRITY.json strictly; returns a reason when it is not a valid document. */
export function parseIntegrity(text: string): { ok: true; doc: IntegrityDocument } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const v = value as Partial<IntegrityDocument> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'not a JSON object' };
  if (v.version !== 1) return { ok: false, reason: 'version must be 1' };
  if (v.algorithm !== 'sha256') return { ok: false, reason: 'algorithm must be "sha256"' };
  if (!Array.isArray(v.files)) return { ok: false, reason: 'files must be an array' };
  const seen = new Set<string>();
  for (const [i, f] of v.files.entries()) {
    const file = f as Partial<IntegrityFile> | null;
    if (
      typeof file !== 'object' ||
      file === null ||
      typeof file.path !== 'string' ||
      !Number.isSafeInteger(file.size) ||
      (file.size as number) < 0 ||
      typeof file.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(file.sha256)
    ) {
      return { ok: false, reason: `files/${i} must be {"path", "size", "sha256"} with a whole size and 64 hex digits` };
    }
    // Checked before the path is a Set key (see unsafeEntryName): no archive can hold such a file.
    const why = unsafeEntryName(file.path);
    if (why !== undefined) return { ok: false, reason: `files/${i} lists the path "${shownEntryName(file.path)}", which no archive entry can have: ${why}` };
    if (seen.has(file.path)) return { ok: false, reason: `files/${i} lists ${file.path} twice` };
    seen.add(file.path);
  }
  return { ok: true, doc: v as IntegrityDocument };
}

/** The trusted comment of both signatures of a pack archive (signing/pack-signature.ts). */
export { trustedCommentFor } from '../signing/pack-signature.js';

/** The archive file name of a pack. */
export function archiveName(slug: string, version: string): string {
  return `${slug}-${version}.zip`;
}

/**
 * Longest entry name, in UTF-8 bytes, that a file system can extract: Linux's PATH_MAX is
 * 4096 bytes with the terminating NUL, so 4095 (macOS allows 1024, Windows 260 UTF-16 units
 * without long-path support, so nothing longer unpacks anywhere an app runs).
 */
export const ENTRY_NAME_MAX_BYTES = 4095;
/** Longest path segment (file or folder name), in UTF-8 bytes: NAME_MAX on Linux and macOS. */
export const ENTRY_SEGMENT_MAX_BYTES = 255;

/** An entry name for a message: a name past 200 characters is cut, with its length. */
export function shownEntryName(name: string): string {
  return name.length <= 200 ? name : `${name.slice(0, 120)}… (${name.length} characters)`;
}

/**
 * Why an entry name is unsafe to extract, or undefined when it is safe: at most
 * ENTRY_NAME_MAX_BYTES with segments of at most ENTRY_SEGMENT_MAX_BYTES, relative, POSIX, no
 * `.`/`..`/empty segments, no backslash, no drive letter, no control characters. Linear in
 * the name's length, and called before a name is used as a Map or Set key: V8 hashes a
 * string of 16,383 or more UTF-16 units by its length alone, so thousands of long names of
 * one length would make every insertion walk one chain (quadratic time). The bounds keep
 * every name that reaches a Map far below that.
 */
export function unsafeEntryName(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  // Each UTF-16 unit is at least one UTF-8 byte: a name with more units needs no counting.
  if (name.length > ENTRY_NAME_MAX_BYTES || Buffer.byteLength(name, 'utf8') > ENTRY_NAME_MAX_BYTES) {
    return `it is longer than ${ENTRY_NAME_MAX_BYTES} bytes, more than a file system can extract`;
  }
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/')) return 'it is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'it starts with a drive letter';
  if ([...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return 'it contains a control character';
  const parts = name.split('/');
  const dirEntry = name.endsWith('/');
  for (const [i, part] of parts.entries()) {
    if (part.length > ENTRY_SEGMENT_MAX_BYTES || Buffer.byteLength(part, 'utf8') > ENTRY_SEGMENT_MAX_BYTES) {
      return `it has a segment longer than ${ENTRY_SEGMENT_MAX_BYTES} bytes, more than a file system allows in one file or folder name`;
    }
    if (part === '..') return 'it contains a ".." segment';
    if (part === '.') return 'it contains a "." segment';
    if (part === '' && !(dirEntry && i === parts.length - 1)) return 'it contains an empty segment';
  }
  return undefined;
}
