/**
 * `packops verify`: proves an archive is ours, intact and safe, without extracting it.
 *
 * - the detached `<zip>.minisig` over the whole file (BLAKE2b-512 prehash, streamed);
 * - every entry read with yauzl (names decoded and checked here, not by yauzl, so that a
 *   hostile name is a finding with a code and not an exception): unsafe names, a local
 *   header naming another file, duplicates (also case-folded), links, zip bombs (declared
 *   sizes and ratios first, then the bytes actually inflated, stopping at the limit);
 * - INTEGRITY.json and its signature, every file's size and SHA-256, nothing extra;
 * - both trusted comments against pack.json's slug and version;
 * - pack.json (its `variants` arrays set aside) against the source schema and rules.
 *
 * Every problem is a finding; only a missing archive path is an input error.
 */
import { isPackopsError } from '../shared/errors.js';
import { openInput, readInputSync, readInputText } from '../shared/input.js';
import { displayPath } from '../shared/paths.js';
import { isOk, type CheckResult, type Finding } from '../shared/findings.js';
import { MAX_MANIFEST_BYTES, MAX_MANIFEST_DEPTH, depthExceeded } from '../manifest/load.js';
import type { PackManifest } from '../manifest/types.js';
import { SignatureFormatError, parseSignature, verifySignature, type PublicKey, type Signature } from '../signing/minisign.js';
import { INTEGRITY_JSON, INTEGRITY_SIG, METADATA_ENTRY_MAX, PACK_JSON, parseIntegrity, trustedCommentFor } from './integrity.js';
import { hashFile } from './file-digest.js';
import { readEntries, type Add, type EntryRecord } from './zip-entries.js';

export const DEFAULT_MAX_RATIO = 100;
export const DEFAULT_MAX_SIZE = 512 * 1024 * 1024;
export const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * Largest archive file that can unpack within `maxSize` bytes in at most `maxEntries`
 * entries: the data (deflate never grows it by more than a fraction of a percent; 1/8 is
 * room to spare) plus headers, names and the central directory (4 KiB an entry). A larger
 * file is refused before it is read: hashing a 1 GiB file only to find it is no archive
 * is work nobody asked for.
 */
export function maxArchiveBytes(maxSize: number, maxEntries: number): number {
  return maxSize + Math.ceil(maxSize / 8) + maxEntries * 4096;
}
/** A minisign signature file is a few hundred bytes; its trusted comment is at most 8 KiB. */
const SIGNATURE_MAX_BYTES = 16 * 1024;

export interface VerifyOptions {
  keys: PublicKey[];
  /** Detached signature (default `<zip>.minisig`). */
  sigPath?: string;
  maxRatio?: number;
  /** Total unpacked bytes allowed. */
  maxSize?: number;
  maxEntries?: number;
  /** Base for the paths shown in findings (default: process.cwd()). */
  cwd?: string;
}

export type ArchiveVerification = CheckResult & {
  /** pack.json as found in the archive (source fields and variants), when it parsed. */
  manifest?: PackManifest;
  /** SHA-256 of the zip file. */
  sha256: string;
  bytes: number;
  /** Key id of the trusted key that signed the archive, when the signature verified. */
  keyId?: string;
};


const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function verifyArchive(zipPath: string, options: VerifyOptions): Promise<ArchiveVerification> {
  const cwd = options.cwd ?? process.cwd();
  const display = displayPath(zipPath, cwd);
  const maxRatio = options.maxRatio ?? DEFAULT_MAX_RATIO;
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const findings: Finding[] = [];
  const add = (code: string, message: string, hint?: string, pointer?: string) =>
    findings.push({ code, severity: 'error', file: display, ...(pointer !== undefined ? { pointer } : {}), message, ...(hint ? { hint } : {}) });

  // A FIFO, device or folder is INPUT_NOT_REGULAR (exit 3) at once, never read or waited on;
  // a file too large to unpack within --max-size is INPUT_TOO_LARGE before a byte is hashed.
  const opened = openInput(zipPath, {
    what: 'archive',
    maxBytes: maxArchiveBytes(maxSize, maxEntries),
    cwd,
    hint: 'An archive this large cannot unpack within --max-size; raise --max-size if it is expected.',
  });
  let digest: Awaited<ReturnType<typeof hashFile>>;
  try {
    digest = await hashFile(opened);
  } finally {
    opened.close();
  }

  // 1. The detached signature over the whole archive.
  const sigPath = options.sigPath ?? `${zipPath}.minisig`;
  const sigDisplay = displayPath(sigPath, cwd);
  let detached: Signature | undefined;
  let keyId: string | undefined;
  let detachedComment: string | undefined;
  const sigText = await readInputText(sigPath, {
    what: 'signature',
    maxBytes: SIGNATURE_MAX_BYTES,
    cwd,
    codes: { unreadable: 'SIGNATURE_UNREADABLE' },
  }).catch((err: unknown) => {
    if (!isPackopsError(err)) throw err;
    if (err.code === 'PATH_NOT_FOUND') return undefined;
    // A file too large to be a signature is a finding like any other bad signature.
    if (err.code === 'INPUT_TOO_LARGE') return 'untrusted comment: (a file too large to be a signature)\n';
    throw err;
  });
  if (sigText === undefined) {
    add('SIGNATURE_MISSING', `No detached signature: ${sigDisplay} does not exist.`, 'Keep the .minisig that `packops build` wrote beside the archive, or give it with --sig.');
  } else {
    try {
      detached = parseSignature(sigText);
    } catch (err) {
      if (!(err instanceof SignatureFormatError)) throw err;
      add('SIGNATURE_INVALID', `${sigDisplay} is not a minisign signature: ${err.message}.`);
    }
  }
  if (detached) {
    let data: Buffer | undefined;
    if (!detached.prehashed && digest.bytes <= maxSize) data = readInputSync(zipPath, { what: 'archive', maxBytes: maxSize, cwd });
    if (!detached.prehashed && !data) {
      add('SIGNATURE_INVALID', `${sigDisplay} is a legacy (not prehashed) signature over an archive larger than ${maxSize} bytes.`);
    } else {
      const check = verifySignature(detached, options.keys, { digest: digest.blake2b512, ...(data ? { data } : {}) });
      if (check.ok) {
        keyId = check.key.keyId;
        detachedComment = check.trustedComment;
      } else reportSignature(check.reason, check.keyId, `${sigDisplay} (the archive's signature)`, add);
    }
  }

  // 2. The entries.
  const entries = new Map<string, EntryRecord>();
  const structural = await readEntries(zipPath, { maxRatio, maxSize, maxEntries }, entries, add);

  const base = { target: display, sha256: digest.sha256, bytes: digest.bytes, ...(keyId ? { keyId } : {}) };
  if (!structural) return { ...base, ok: false, findings };

  // 3. INTEGRITY.json and its signature.
  const integrity = entries.get(INTEGRITY_JSON);
  const integritySig = entries.get(INTEGRITY_SIG);
  let innerComment: string | undefined;
  if (!integrity) add('INTEGRITY_MISSING_FILE', `The archive holds no ${INTEGRITY_JSON}.`);
  if (!integritySig) add('SIGNATURE_MISSING', `The archive holds no ${INTEGRITY_SIG}.`);
  if (integrity?.data && integritySig?.data) {
    let sig: Signature | undefined;
    try {
      sig = parseSignature(utf8Or(integritySig.data));
    } catch (err) {
      if (!(err instanceof SignatureFormatError)) throw err;
      add('SIGNATURE_INVALID', `${INTEGRITY_SIG} is not a minisign signature: ${err.message}.`);
    }
    if (sig) {
      const check = verifySignature(sig, options.keys, { data: integrity.data });
      if (check.ok) innerComment = check.trustedComment;
      else reportSignature(check.reason, check.keyId, INTEGRITY_SIG, add);
    }
  } else if (integrity && !integrity.data) add('INTEGRITY_MISMATCH', `${INTEGRITY_JSON} is too large to be an integrity list.`);

  // parseIntegrity refused any path unsafeEntryName refuses (too long for a Map key among them).
  const listed = new Map<string, { size: number; sha256: string }>();
  if (integrity?.data) {
    const parsed = parseIntegrity(utf8Or(integrity.data));
    if (!parsed.ok) add('INTEGRITY_MISMATCH', `${INTEGRITY_JSON} is not a valid integrity list: ${parsed.reason}.`);
    else for (const f of parsed.doc.files) listed.set(f.path, { size: f.size, sha256: f.sha256 });
    for (const [path, want] of listed) {
      const got = entries.get(path);
      if (!got) add('INTEGRITY_MISSING_FILE', `${path} is listed in ${INTEGRITY_JSON} but is not in the archive.`);
      else if (got.size !== want.size || got.sha256 !== want.sha256) {
        add('INTEGRITY_MISMATCH', `${path} does not match ${INTEGRITY_JSON}: ${got.size} bytes, SHA-256 ${got.sha256.slice(0, 12)}… (expected ${want.size} bytes, ${want.sha256.slice(0, 12)}…).`);
      }
    }
    for (const path of entries.keys()) {
      if (path === INTEGRITY_JSON || path === INTEGRITY_SIG || listed.has(path)) continue;
      add('INTEGRITY_EXTRA_FILE', `${path} is in the archive but not listed in ${INTEGRITY_JSON}.`);
    }
  }

  // 4. pack.json.
  let manifest: PackManifest | undefined;
  const pack = entries.get(PACK_JSON);
  if (!pack) {
    if (!listed.has(PACK_JSON)) add('INTEGRITY_MISSING_FILE', `The archive holds no ${PACK_JSON}.`);
  } else if (!pack.data) {
    add('MANIFEST_UNREADABLE', `${PACK_JSON} is larger than ${METADATA_ENTRY_MAX} bytes.`);
  } else {
    manifest = await checkPackJson(pack.data, listed, add);
  }

  // 5. The trusted comments name this pack.
  if (manifest && typeof manifest.slug === 'string' && typeof manifest.version === 'string') {
    const expected = trustedCommentFor(manifest.slug, manifest.version);
    for (const [where, comment] of [
      [sigDisplay, detachedComment],
      [INTEGRITY_SIG, innerComment],
    ] as const) {
      if (comment !== undefined && comment !== expected) {
        add('SIGNATURE_COMMENT_MISMATCH', `The trusted comment of ${where} is "${comment}", but pack.json is "${expected}".`, 'The archive was renamed or re-labelled after signing: rebuild and sign it again.');
      }
    }
  }

  return { ...base, ok: isOk(findings), findings, ...(manifest ? { manifest } : {}) };
}


function reportSignature(reason: 'untrusted-key' | 'invalid' | 'comment-invalid', keyId: string, what: string, add: Add): void {
  if (reason === 'untrusted-key') {
    add('SIGNATURE_UNTRUSTED_KEY', `${what} was made by key ${keyId}, which is not among the trusted keys.`, 'Pass the right --pubkey, or add the key to the --trusted-keys folder.');
  } else if (reason === 'invalid') {
    add('SIGNATURE_INVALID', `${what} does not verify: the signed content was changed.`);
  } else {
    add('SIGNATURE_INVALID', `${what}: the trusted comment's signature does not verify (the comment was edited).`);
  }
}

function utf8Or(data: Buffer): string {
  try {
    return utf8.decode(data);
  } catch {
    return data.toString('latin1');
  }
}

async function checkPackJson(data: Buffer, listed: Map<string, { size: number; sha256: string }>, add: Add): Promise<PackManifest | undefined> {
  // The limits `validate` puts on a manifest hold here too: no byte-order mark (TextDecoder would drop it silently), no nesting past 64 levels
  // (the schema check and structuredClone recurse).
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
    add('MANIFEST_UNREADABLE', `${PACK_JSON} in the archive starts with a UTF-8 byte-order mark; a manifest must be plain UTF-8 JSON without one.`);
    return undefined;
  }
  let value: unknown;
  try {
    const text = utf8.decode(data);
    if (depthExceeded(text, MAX_MANIFEST_DEPTH) !== undefined) {
      add('MANIFEST_UNREADABLE', `${PACK_JSON} in the archive nests objects or arrays deeper than ${MAX_MANIFEST_DEPTH} levels.`);
      return undefined;
    }
    value = JSON.parse(text);
  } catch (err) {
    add('MANIFEST_UNREADABLE', `${PACK_JSON} in the archive is not strict UTF-8 JSON: ${(err as Error).message}`);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    add('MANIFEST_UNREADABLE', `${PACK_JSON} in the archive is not a JSON object.`);
    return undefined;
  }
  const manifest = value as PackManifest;
  // The source manifest is pack.json without the variants arrays the build added.
  const source = structuredClone(value) as { assets?: unknown };
  const variantsOf: Array<{ index: number; variants: unknown }> = [];
  if (Array.isArray(source.assets)) {
    source.assets.forEach((asset: unknown, index: number) => {
      if (asset !== null && typeof asset === 'object' && 'variants' in asset) {
        variantsOf.push({ index, variants: (asset as { variants: unknown }).variants });
        delete (asset as { variants?: unknown }).variants;
      }
    });
  }
  // The source manifest is at most 1 MiB, as `validate` requires of pack.json; the entry
  // itself may be larger by the variant records the build added (METADATA_ENTRY_MAX).
  const sourceBytes = Buffer.byteLength(JSON.stringify(source), 'utf8');
  if (sourceBytes > MAX_MANIFEST_BYTES) {
    add('MANIFEST_UNREADABLE', `${PACK_JSON} in the archive holds a source manifest of ${sourceBytes} bytes once its variants are set aside; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes (1 MiB).`);
    return undefined;
  }
  const { checkManifestValue } = await import('../manifest/check.js');
  for (const f of checkManifestValue(source)) {
    add(f.code, `${PACK_JSON}: ${f.message}`, f.hint, f.pointer);
  }
  // Every variant pack.json names must be in the archive with the hash it states.
  for (const { index, variants } of variantsOf) {
    if (!Array.isArray(variants)) {
      add('SCHEMA', `${PACK_JSON}: assets/${index}/variants must be an array.`, undefined, `/assets/${index}/variants`);
      continue;
    }
    variants.forEach((v: unknown, j: number) => {
      const pointer = `/assets/${index}/variants/${j}`;
      const path = (v as { path?: unknown } | null)?.path;
      const sha = (v as { sha256?: unknown } | null)?.sha256;
      if (typeof path !== 'string' || typeof sha !== 'string') {
        add('SCHEMA', `${PACK_JSON}: a variant must have a "path" and a "sha256".`, undefined, pointer);
        return;
      }
      const entry = listed.get(path);
      if (!entry) add('INTEGRITY_MISSING_FILE', `${PACK_JSON} names the variant ${path}, which ${INTEGRITY_JSON} does not list.`, undefined, pointer);
      else if (entry.sha256 !== sha) add('INTEGRITY_MISMATCH', `${PACK_JSON} gives the variant ${path} another SHA-256 than ${INTEGRITY_JSON}.`, undefined, pointer);
    });
  }
  return manifest;
}
