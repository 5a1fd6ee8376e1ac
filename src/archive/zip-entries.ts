/**
 * Reading a zip's entries for `verify` without extracting it: names decoded and checked here
 * (not by yauzl), local headers compared with the central directory, links, duplicates,
 * declared and actual sizes bounded, every entry's bytes hashed.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { INTEGRITY_JSON, INTEGRITY_SIG, METADATA_ENTRY_MAX, PACK_JSON, shownEntryName, unsafeEntryName } from './integrity.js';
import { tilingProblems, type EntrySpan } from './tiling.js';

export interface EntryRecord {
  size: number;
  sha256: string;
  data?: Buffer;
}

export type Add = (code: string, message: string, hint?: string, pointer?: string) => void;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface Limits {
  maxRatio: number;
  maxSize: number;
  maxEntries: number;
}

/** The Info-ZIP Unicode Path extra field (0x7075): a second name some extractors prefer. */
function unicodePathName(extra: ReadonlyArray<{ id: number; data: Buffer }>): string | null | undefined {
  const field = extra.find((f) => f.id === 0x7075);
  if (!field) return undefined;
  if (field.data.length < 5) return null;
  try {
    return utf8.decode(field.data.subarray(5));
  } catch {
    return null;
  }
}

/**
 * Reads every entry, hashing its content. Returns false when the zip could not be read
 * to the end (a ZIP_CORRUPT or a bomb), in which case the integrity checks are skipped.
 */
export async function readEntries(zipPath: string, limits: Limits, entries: Map<string, EntryRecord>, add: Add): Promise<boolean> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, decodeStrings: false, validateEntrySizes: false, autoClose: false, strictFileNames: false });
  } catch (err) {
    add('ZIP_CORRUPT', `The archive is not a readable zip file: ${(err as Error).message}.`);
    return false;
  }
  const folded = new Map<string, string>();
  let declaredTotal = 0;
  let actualTotal = 0;
  let count = 0;
  let complete = true;
  try {
    if (zip.entryCount > limits.maxEntries) {
      add('ZIP_BOMB', `The archive declares ${zip.entryCount} entries (limit ${limits.maxEntries}).`);
      return false;
    }
    // yauzl starts reading the central directory at its offset, and ends at its end.
    const cursor = zip as unknown as { readEntryCursor: number; fileSize: number };
    const cdStart = cursor.readEntryCursor;
    const spans: EntrySpan[] = [];
    for await (const entry of zip.eachEntry()) {
      count++;
      spans.push({
        name: shownEntryName((entry.fileNameRaw ?? (entry.fileName as unknown as Buffer)).toString('utf8')),
        offset: entry.relativeOffsetOfLocalHeader,
        compressedSize: entry.compressedSize,
        flags: entry.generalPurposeBitFlag,
      });
      const raw = entry.fileNameRaw ?? (entry.fileName as unknown as Buffer);
      let name: string;
      try {
        name = utf8.decode(raw);
      } catch {
        add('ZIP_UNSAFE_PATH', `Entry ${count} has a name that is not UTF-8 (${raw.toString('hex').slice(0, 40)}…).`);
        continue;
      }
      // Before the name is a Map key (`folded`, `entries`): unsafeEntryName bounds its length.
      const why = unsafeEntryName(name);
      if (why !== undefined) {
        add('ZIP_UNSAFE_PATH', `The entry "${shownEntryName(name)}" is unsafe to extract: ${why}.`);
        continue;
      }
      const second = unicodePathName(entry.extraFields);
      if (second !== undefined && second !== name) {
        add('ZIP_UNSAFE_PATH', `The entry "${name}" carries a second (Unicode Path) name${second === null ? ' that cannot be read' : ` "${second}"`}.`);
        continue;
      }
      const fileType = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (fileType === 0o120000) {
        add('ZIP_LINK', `The entry "${name}" is a symbolic link.`);
        continue;
      }
      const key = name.normalize('NFC').toLowerCase();
      const clash = folded.get(key);
      if (clash !== undefined) {
        add('ZIP_DUPLICATE_ENTRY', clash === name ? `The entry "${name}" appears more than once.` : `The entries "${clash}" and "${name}" collide on case-insensitive file systems.`);
        continue;
      }
      folded.set(key, name);
      if (entry.generalPurposeBitFlag & 0x1) {
        add('ZIP_CORRUPT', `The entry "${name}" is encrypted.`);
        continue;
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        add('ZIP_CORRUPT', `The entry "${name}" uses compression method ${entry.compressionMethod} (only stored and deflate are read).`);
        continue;
      }
      if (name.endsWith('/')) {
        entries.set(name, { size: 0, sha256: '' });
        continue;
      }
      declaredTotal += entry.uncompressedSize;
      if (declaredTotal > limits.maxSize) {
        add('ZIP_BOMB', `The archive unpacks to more than ${limits.maxSize} bytes (declared sizes; "${name}" passes the limit).`, 'Raise --max-size only for archives you trust.');
        return false;
      }
      const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
      if (ratio > limits.maxRatio) {
        add('ZIP_BOMB', `The entry "${name}" expands ${Math.round(ratio)}:1 (limit ${limits.maxRatio}:1).`, 'Raise --max-ratio only for archives you trust.');
        return false;
      }
      // The local header must describe the same file as the central directory.
      let local: LocalHeader;
      try {
        local = (await zip.readLocalFileHeaderPromise(entry)) as unknown as typeof local;
      } catch (err) {
        add('ZIP_CORRUPT', `The entry "${name}" cannot be read: ${(err as Error).message}.`);
        return false;
      }
      if (!Buffer.from(local.fileName).equals(raw)) {
        add('ZIP_UNSAFE_PATH', `The entry "${name}" has another name in its local header ("${Buffer.from(local.fileName).toString('utf8')}").`);
        continue;
      }
      if (local.compressionMethod !== entry.compressionMethod) {
        add('ZIP_CORRUPT', `The entry "${name}" has another compression method in its local header.`);
        return false;
      }
      // A streaming extractor trusts the local header: it must tell the same story.
      const disagreement = localHeaderDisagreement(local, entry);
      if (disagreement !== undefined) {
        add('ZIP_CORRUPT', `The entry "${name}" has another ${disagreement} in its local header than in the central directory.`);
      }
      const budget = Math.min(entry.uncompressedSize, limits.maxSize - actualTotal);
      const read = await readEntry(zip, entry, local.fileDataStart, budget, name === PACK_JSON || name === INTEGRITY_JSON || name === INTEGRITY_SIG);
      actualTotal += read.bytes;
      if (read.kind === 'over') {
        add(
          'ZIP_BOMB',
          read.bytes > entry.uncompressedSize
            ? `The entry "${name}" inflates to more than it declares (${entry.uncompressedSize} bytes); reading stopped.`
            : `The archive unpacks to more than ${limits.maxSize} bytes ("${name}" passes the limit); reading stopped.`,
        );
        return false;
      }
      if (read.kind === 'error') {
        add('ZIP_CORRUPT', `The entry "${name}" cannot be read: ${read.message}.`);
        complete = false;
        continue;
      }
      if (read.crc32 !== entry.crc32 >>> 0) {
        // Extractors (unzip, the app's) refuse such an entry even when its bytes are right.
        // Its content is still hashed and checked against INTEGRITY.json below.
        add('ZIP_CORRUPT', `The entry "${name}" does not match its CRC-32 (${hex8(read.crc32)}, the zip says ${hex8(entry.crc32 >>> 0)}).`);
      }
      entries.set(name, { size: read.bytes, sha256: read.sha256, ...(read.data ? { data: read.data } : {}) });
    }
    // Every byte of the file belongs to a listed entry or to the central directory.
    for (const problem of await tilingProblems(zipPath, spans, cdStart, cursor.readEntryCursor, cursor.fileSize)) {
      add('ZIP_CORRUPT', problem, 'A zip must hold only the entries its central directory lists; rebuild it with packops build.');
    }
  } catch (err) {
    add('ZIP_CORRUPT', `The archive is not a readable zip file: ${(err as Error).message}.`);
    return false;
  } finally {
    zip.close();
  }
  return complete;
}

interface LocalHeader {
  fileDataStart: number;
  fileName: Buffer;
  compressionMethod: number;
  generalPurposeBitFlag: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  extraField: Buffer;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * What the local header says differently from the central directory entry, or undefined.
 * With a data descriptor (flag bit 3) the local CRC and sizes are placeholders; a 0xFFFFFFFF
 * size is in the local ZIP64 extra field (0x0001: uncompressed, then compressed size).
 */
function localHeaderDisagreement(local: LocalHeader, entry: yauzl.Entry): string | undefined {
  if ((local.generalPurposeBitFlag & 0x1) !== (entry.generalPurposeBitFlag & 0x1)) return 'encryption flag';
  if (local.generalPurposeBitFlag & 0x8) return undefined;
  if (local.crc32 >>> 0 !== entry.crc32 >>> 0) return 'CRC-32';
  let uncompressed = local.uncompressedSize;
  let compressed = local.compressedSize;
  if (uncompressed === 0xffffffff || compressed === 0xffffffff) {
    const extra = Buffer.from(local.extraField ?? Buffer.alloc(0));
    let zip64: Buffer | undefined;
    for (let i = 0; i + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(i);
      const size = extra.readUInt16LE(i + 2);
      if (id === 0x0001) zip64 = extra.subarray(i + 4, i + 4 + size);
      i += 4 + size;
    }
    let at = 0;
    const next = (): number | undefined => {
      if (!zip64 || at + 8 > zip64.length) return undefined;
      const v = Number(zip64.readBigUInt64LE(at));
      at += 8;
      return v;
    };
    if (uncompressed === 0xffffffff) uncompressed = next() ?? -1;
    if (compressed === 0xffffffff) compressed = next() ?? -1;
  }
  if (uncompressed !== entry.uncompressedSize) return 'uncompressed size';
  if (compressed !== entry.compressedSize) return 'compressed size';
  return undefined;
}

type EntryRead =
  | { kind: 'ok'; bytes: number; sha256: string; crc32: number; data?: Buffer }
  | { kind: 'over'; bytes: number }
  | { kind: 'error'; bytes: number; message: string };

/** Streams one entry's content through SHA-256, stopping as soon as it passes `budget` bytes. */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, dataStart: number, budget: number, keep: boolean): Promise<EntryRead> {
  let stream: Readable;
  try {
    // yauzl 3.4's openReadStreamLowLevelPromise calls openReadStream by mistake: use the callback form.
    stream = await new Promise<Readable>((resolve, reject) =>
      zip.openReadStreamLowLevel(dataStart, entry.compressedSize, 0, entry.compressedSize, entry.compressionMethod === 8, entry.uncompressedSize, (err, s) =>
        err ? reject(err) : resolve(s),
      ),
    );
  } catch (err) {
    return { kind: 'error', bytes: 0, message: (err as Error).message };
  }
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  let crc = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > budget) {
        (stream as Readable & { destroy(): void }).destroy();
        return { kind: 'over', bytes };
      }
      hash.update(chunk);
      crc = crc32(chunk, crc);
      if (keep && bytes <= METADATA_ENTRY_MAX) kept.push(chunk);
    }
  } catch (err) {
    return { kind: 'error', bytes, message: (err as Error).message };
  }
  if (bytes !== entry.uncompressedSize) {
    return { kind: 'error', bytes, message: `it holds ${bytes} bytes but declares ${entry.uncompressedSize}` };
  }
  return { kind: 'ok', bytes, sha256: hash.digest('hex'), crc32: crc >>> 0, ...(keep && bytes <= METADATA_ENTRY_MAX ? { data: Buffer.concat(kept) } : {}) };
}
