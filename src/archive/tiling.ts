/**
 * A zip is read two ways: by its central directory (unzip, yauzl, our verify) and by
 * walking local headers from the start of the file (streaming extractors such as Android's
 * ZipInputStream). The two agree only when the local entries the central directory lists
 * tile the file exactly: the first at offset 0, each starting where the previous one (its
 * header, data and data descriptor) ends, the last ending where the central directory
 * starts, and nothing but the end records after it. Any other byte could hold an entry that
 * a streaming extractor unpacks and `verify` never saw.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface EntrySpan {
  /** Entry name as shown in messages. */
  name: string;
  /** Offset of the local header (from the central directory). */
  offset: number;
  compressedSize: number;
  /** General purpose flags (bit 3: a data descriptor follows the data). */
  flags: number;
}

const LOCAL_SIG = 0x04034b50;
const DESCRIPTOR_SIG = 0x08074b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** What lies at `offset`: a local header's name, or a description of plain bytes. */
async function describe(fh: FileHandle, offset: number): Promise<string> {
  const head = await readAt(fh, offset, 30);
  if (head.length === 30 && head.readUInt32LE(0) === LOCAL_SIG) {
    const name = await readAt(fh, offset + 30, Math.min(head.readUInt16LE(26), 200));
    return `a local entry "${name.toString('utf8')}" that the central directory does not list (streaming extractors would unpack it)`;
  }
  return 'bytes that belong to no listed entry';
}

/**
 * Problems with the layout, as messages (empty when the entries tile the file). `cdStart`
 * and `cdEnd` bound the central directory; `fileSize` is the archive's size.
 */
export async function tilingProblems(zipPath: string, spans: readonly EntrySpan[], cdStart: number, cdEnd: number, fileSize: number): Promise<string[]> {
  const problems: string[] = [];
  const fh = await open(zipPath, 'r');
  try {
    const sorted = [...spans].sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const span of sorted) {
      if (span.offset > at) {
        problems.push(`${span.offset - at} bytes at offset ${at}, before the entry "${span.name}", are ${await describe(fh, at)}.`);
      } else if (span.offset < at) {
        problems.push(`The entry "${span.name}" at offset ${span.offset} overlaps the entry before it (which ends at ${at}).`);
        return problems;
      }
      const head = await readAt(fh, span.offset, 30);
      if (head.length < 30 || head.readUInt32LE(0) !== LOCAL_SIG) {
        problems.push(`The entry "${span.name}" has no local header at offset ${span.offset}.`);
        return problems;
      }
      const dataEnd = span.offset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28) + span.compressedSize;
      at = dataEnd;
      if (span.flags & 0x8) {
        // A data descriptor: 12 or 20 bytes (32- or 64-bit sizes), after an optional signature.
        const next = sorted[sorted.indexOf(span) + 1]?.offset ?? cdStart;
        const sig = await readAt(fh, dataEnd, 4);
        const signed = sig.length === 4 && sig.readUInt32LE(0) === DESCRIPTOR_SIG;
        const lengths = signed ? [16, 24] : [12, 20];
        at = dataEnd + (lengths.find((n) => dataEnd + n === next) ?? lengths[0]!);
      }
    }
    if (at < cdStart) {
      problems.push(`${cdStart - at} bytes at offset ${at}, between the last entry and the central directory, are ${await describe(fh, at)}.`);
    } else if (at > cdStart) {
      problems.push(`The last entry runs into the central directory (it ends at ${at}, the directory starts at ${cdStart}).`);
    }
    // After the central directory: [zip64 end record + locator] + end record + its comment, nothing else.
    const tail = await readAt(fh, cdEnd, Math.min(fileSize - cdEnd, 1 << 20));
    let p = 0;
    if (tail.length >= 56 && tail.readUInt32LE(0) === ZIP64_EOCD_SIG) {
      p = 12 + Number(tail.readBigUInt64LE(4));
      if (tail.length >= p + 20 && tail.readUInt32LE(p) === ZIP64_LOCATOR_SIG) p += 20;
    }
    const endOk = tail.length >= p + 22 && tail.readUInt32LE(p) === EOCD_SIG && p + 22 + tail.readUInt16LE(p + 20) === fileSize - cdEnd;
    if (!endOk) problems.push(`The ${fileSize - cdEnd} bytes after the central directory are not just its end record.`);
  } finally {
    await fh.close();
  }
  return problems;
}
