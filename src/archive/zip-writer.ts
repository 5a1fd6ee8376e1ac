/**
 * A small, reproducible zip writer for pack archives.
 *
 * Why not archiver: archiver (zip-stream → compress-commons) computes the CRC-32 of stored
 * entries in JavaScript (crc-32, ~440 MB/s here) and writes streamed entries with data
 * descriptors, which java.util.zip.ZipInputStream (Android's streaming reader) refuses for
 * stored entries. This writer reads each file once into one of two reused buffers (the next
 * file is read while this one is written), takes its SHA-256 and Node's native zlib.crc32
 * over those bytes, then writes a finished local header and the data: nothing is patched
 * afterwards, so `onData` sees the archive's bytes once, in order, as they are written (the
 * build hashes the archive for its signature from them). No data descriptors, no extra
 * fields, no clocks. Memory stays at two buffers (each at most 16 MiB; a larger file is
 * read twice instead) whatever the archive's size.
 *
 * Layout per entry: local header (version 2.0, UTF-8 flag, fixed DOS time) + data; then the
 * central directory (made by Unix, mode 0644 regular file) and the end record. Zip64 is
 * not needed for packs (each entry and the whole archive stay under 4 GiB) and is refused.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { OpenedInput } from '../shared/input.js';
import { crc32, deflateRawSync } from 'node:zlib';

export type ZipMethod = 'store' | 'deflate';

export interface ZipEntryInput {
  /** Entry name (POSIX path inside the archive). */
  name: string;
  /** In-memory content (JSON, signatures): deflated or stored per `method`. */
  data?: Uint8Array;
  /** A file to stream (always stored: variants are already compressed images). */
  file?: string;
  method: ZipMethod;
  /** When given, the streamed file must have exactly this size and SHA-256. */
  expect?: { size: number; sha256: string };
}

export interface ZipEntryWritten {
  name: string;
  method: ZipMethod;
  size: number;
  compressedSize: number;
  crc32: number;
  sha256: string;
}

export interface ZipWriteOptions {
  /** Entry timestamps, seconds since the epoch (UTC); clamped to 1980-01-01…2107. */
  mtime: number;
  /** Deflate level for deflated entries (fixed, so the output is reproducible). */
  level?: number;
  /** Called with the bytes of source data written so far. */
  onBytes?: (bytes: number) => void;
  /**
   * Sees every byte of the archive exactly once, in file order, as it is written (the chunk
   * may be reused once it returns; a returned promise holds the writer back until it settles).
   */
  onData?: (chunk: Uint8Array) => void | Promise<void>;
}

/** The source file changed, or differs from what the lock file recorded. */
export class ZipSourceMismatchError extends Error {
  constructor(
    readonly entry: string,
    readonly file: string,
    readonly expected: { size: number; sha256: string },
    readonly actual: { size: number; sha256: string },
  ) {
    super(`${file} (entry ${entry}) does not match its recorded size and SHA-256`);
  }
}

const CHUNK = 1024 * 1024;
const MAX32 = 0xffffffff;
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | 20; // Unix, spec 2.0
const FLAG_UTF8 = 0x0800;
const MODE_FILE_0644 = 0o100644;

export const DEFAULT_DEFLATE_LEVEL = 9;

/** The 1980-01-01T00:00:00Z default (the earliest time a zip can hold). */
export const ZIP_EPOCH = 315532800;

/** MS-DOS date and time of a UTC instant (2-second resolution). */
export function dosDateTime(epochSeconds: number): { date: number; time: number } {
  const clamped = Math.min(Math.max(Math.floor(epochSeconds), ZIP_EPOCH), 4354819198);
  const d = new Date(clamped * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time };
}

/** Seconds since the epoch of an MS-DOS date and time read as UTC. */
export function fromDosDateTime(date: number, time: number): number {
  const ms = Date.UTC(
    ((date >> 9) & 0x7f) + 1980,
    ((date >> 5) & 0x0f) - 1,
    date & 0x1f,
    (time >> 11) & 0x1f,
    (time >> 5) & 0x3f,
    (time & 0x1f) * 2,
  );
  return Math.floor(ms / 1000);
}

function localHeader(name: Buffer, method: number, dos: { date: number; time: number }, crc: number, csize: number, size: number): Buffer {
  const h = Buffer.alloc(30 + name.length);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(VERSION_NEEDED, 4);
  h.writeUInt16LE(FLAG_UTF8, 6);
  h.writeUInt16LE(method, 8);
  h.writeUInt16LE(dos.time, 10);
  h.writeUInt16LE(dos.date, 12);
  h.writeUInt32LE(crc >>> 0, 14);
  h.writeUInt32LE(csize, 18);
  h.writeUInt32LE(size, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(0, 28);
  name.copy(h, 30);
  return h;
}

function centralHeader(
  name: Buffer,
  method: number,
  dos: { date: number; time: number },
  e: ZipEntryWritten,
  offset: number,
): Buffer {
  const h = Buffer.alloc(46 + name.length);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(VERSION_MADE_BY, 4);
  h.writeUInt16LE(VERSION_NEEDED, 6);
  h.writeUInt16LE(FLAG_UTF8, 8);
  h.writeUInt16LE(method, 10);
  h.writeUInt16LE(dos.time, 12);
  h.writeUInt16LE(dos.date, 14);
  h.writeUInt32LE(e.crc32 >>> 0, 16);
  h.writeUInt32LE(e.compressedSize, 20);
  h.writeUInt32LE(e.size, 24);
  h.writeUInt16LE(name.length, 28);
  // extra length, comment length, disk number start, internal attributes: 0
  h.writeUInt32LE((MODE_FILE_0644 << 16) >>> 0, 38);
  h.writeUInt32LE(offset, 42);
  name.copy(h, 46);
  return h;
}

function tooLarge(what: string): Error {
  return new RangeError(`${what} exceeds what a zip without Zip64 can hold (4 GiB, 65535 entries)`);
}

class Writer {
  offset = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly onData?: (chunk: Uint8Array) => void | Promise<void>,
  ) {}
  async write(buf: Uint8Array): Promise<void> {
    if (this.offset + buf.length > MAX32) throw tooLarge('the archive');
    const held = this.onData?.(buf);
    if (held) await held;
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, this.offset + done);
      done += bytesWritten;
    }
    this.offset += buf.length;
  }
}

/** Files up to this size are read whole into one buffer; larger ones are read twice instead. */
const MAX_BUFFERED = 16 * 1024 * 1024;

/** A file entry's bytes, read whole (`data`), or only its size and CRC-32 for a large one. */
type Loaded = { data: Buffer } | { size: number; crc: number };

class SourceChanged extends Error {}

/**
 * Two buffers used in turn: one holds the file being hashed and written while the next file
 * is read into the other. They grow to the largest file read (at most MAX_BUFFERED + 1) and
 * are reused, so reading a pack allocates nothing per file.
 */
class BufferPair {
  private readonly bufs: Array<Buffer | undefined> = [undefined, undefined];
  private turn = 0;
  /**
   * The buffer for the next load, chosen when the load starts (in entry order, never when
   * its file happens to open: loads run concurrently and may open out of order).
   */
  next(): (size: number) => Buffer {
    const i = this.turn;
    this.turn ^= 1;
    return (size) => {
      let buf = this.bufs[i];
      if (buf === undefined || buf.length < size) {
        buf = Buffer.allocUnsafeSlow(Math.max(size, 256 * 1024));
        this.bufs[i] = buf;
      }
      return buf;
    };
  }
}

/** Reads a file whole (up to MAX_BUFFERED), or, when larger, its CRC-32 and size in one streamed read. */
async function loadFile(path: string, buffer: (size: number) => Buffer): Promise<Loaded> {
  const src = await open(path, 'r');
  try {
    const { size } = await src.stat();
    if (size <= MAX_BUFFERED) {
      // One byte more than the size: a file that grew since the stat is noticed, not cut.
      const buf = buffer(size + 1).subarray(0, size + 1);
      let got = 0;
      for (;;) {
        const { bytesRead } = await src.read(buf, got, buf.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
        if (got === buf.length) throw new SourceChanged(`${path} grew while it was read`);
      }
      return { data: buf.subarray(0, got) };
    }
    let crc = 0;
    let total = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      crc = crc32(buf.subarray(0, bytesRead), crc);
      total += bytesRead;
      if (total > MAX32) throw tooLarge(path);
    }
    return { size: total, crc: crc >>> 0 };
  } finally {
    await src.close();
  }
}

/** The second read of a large file: hashed, CRC'd and written chunk by chunk, double-buffered. */
async function streamLarge(w: Writer, path: string, onChunk: (n: number) => void): Promise<{ size: number; crc: number; sha256: string }> {
  const src = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    let crc = 0;
    let size = 0;
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let which = 0;
    let pending = src.read(bufs[0]!, 0, CHUNK, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const chunk = bufs[which]!.subarray(0, bytesRead);
      which ^= 1;
      // Read the next chunk while this one is hashed and written.
      pending = src.read(bufs[which]!, 0, CHUNK, null);
      hash.update(chunk);
      crc = crc32(chunk, crc);
      size += bytesRead;
      if (size > MAX32) throw tooLarge(path);
      await w.write(chunk);
      onChunk(bytesRead);
    }
    return { size, crc: crc >>> 0, sha256: hash.digest('hex') };
  } finally {
    await src.close();
  }
}

/**
 * Writes the entries, in the order given, to `path` (which must not exist: callers pass a
 * temporary path and rename it). Returns what was written, per entry.
 */
export async function writeZip(path: string, entries: readonly ZipEntryInput[], options: ZipWriteOptions): Promise<ZipEntryWritten[]> {
  if (entries.length > 0xffff) throw tooLarge('the entry count');
  const dos = dosDateTime(options.mtime);
  const level = options.level ?? DEFAULT_DEFLATE_LEVEL;
  const fh = await open(path, 'wx', 0o644);
  const written: Array<{ e: ZipEntryWritten; name: Buffer; offset: number; method: number }> = [];
  let sourceBytes = 0;
  const counted = (n: number) => {
    sourceBytes += n;
    options.onBytes?.(sourceBytes);
  };
  // The next file entry is read while the current one is hashed and written.
  const buffers = new BufferPair();
  const load = (i: number): Promise<Loaded> | undefined => {
    const file = entries[i]?.file;
    if (file === undefined) return undefined;
    const p = loadFile(file, buffers.next());
    p.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    return p;
  };
  let pending = load(0);
  try {
    const w = new Writer(fh, options.onData);
    for (const [i, entry] of entries.entries()) {
      const name = Buffer.from(entry.name, 'utf8');
      const offset = w.offset;
      const loading = pending;
      pending = load(i + 1);
      if (entry.file !== undefined) {
        if (entry.method !== 'store') throw new RangeError('file entries are stored');
        let r: { size: number; crc: number; sha256: string };
        const loaded = await loading!.catch((err: unknown) => {
          if (err instanceof SourceChanged) throw new ZipSourceMismatchError(entry.name, entry.file!, entry.expect ?? { size: -1, sha256: '' }, { size: -1, sha256: '' });
          throw err;
        });
        if ('data' in loaded) {
          const data = loaded.data;
          r = { size: data.length, crc: crc32(data) >>> 0, sha256: createHash('sha256').update(data).digest('hex') };
          if (entry.expect && (entry.expect.size !== r.size || entry.expect.sha256 !== r.sha256)) {
            throw new ZipSourceMismatchError(entry.name, entry.file, entry.expect, { size: r.size, sha256: r.sha256 });
          }
          await w.write(localHeader(name, 0, dos, r.crc, r.size, r.size));
          await w.write(data);
          counted(data.length);
        } else {
          await w.write(localHeader(name, 0, dos, loaded.crc, loaded.size, loaded.size));
          r = await streamLarge(w, entry.file, counted);
          if (r.size !== loaded.size || r.crc !== loaded.crc || (entry.expect && (entry.expect.size !== r.size || entry.expect.sha256 !== r.sha256))) {
            throw new ZipSourceMismatchError(entry.name, entry.file, entry.expect ?? { size: loaded.size, sha256: '' }, { size: r.size, sha256: r.sha256 });
          }
        }
        written.push({ e: { name: entry.name, method: 'store', size: r.size, compressedSize: r.size, crc32: r.crc, sha256: r.sha256 }, name, offset, method: 0 });
      } else if (entry.data !== undefined) {
        const data = entry.data;
        const crc = crc32(data) >>> 0;
        const body = entry.method === 'deflate' ? deflateRawSync(data, { level }) : data;
        const method = entry.method === 'deflate' ? 8 : 0;
        if (data.length > MAX32) throw tooLarge(entry.name);
        await w.write(localHeader(name, method, dos, crc, body.length, data.length));
        await w.write(body);
        const sha256 = createHash('sha256').update(data).digest('hex');
        written.push({ e: { name: entry.name, method: entry.method, size: data.length, compressedSize: body.length, crc32: crc, sha256 }, name, offset, method });
      } else {
        throw new RangeError(`entry ${entry.name} has neither data nor a file`);
      }
    }
    const cdOffset = w.offset;
    const central = Buffer.concat(written.map((x) => centralHeader(x.name, x.method, dos, x.e, x.offset)));
    await w.write(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(written.length, 8);
    end.writeUInt16LE(written.length, 10);
    end.writeUInt32LE(central.length, 12);
    end.writeUInt32LE(cdOffset, 16);
    await w.write(end);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return written.map((x) => x.e);
}

/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of a file, in one read. `path` is a file
 * packops wrote itself, or an input already opened by src/shared/input.ts (its checks and
 * size cap hold; it is read from byte 0 up to the size it had when opened, and left open).
 */
export async function hashFile(path: string | OpenedInput): Promise<{ sha256: string; blake2b512: Buffer; bytes: number }> {
  if (typeof path !== 'string') return hashOpened(path);
  const fh = await open(path, 'r');
  try {
    const sha = createHash('sha256');
    const b2 = createHash('blake2b512');
    const buf = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      sha.update(chunk);
      b2.update(chunk);
      bytes += bytesRead;
    }
    return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
  } finally {
    await fh.close();
  }
}

function hashOpened(input: OpenedInput): { sha256: string; blake2b512: Buffer; bytes: number } {
  const sha = createHash('sha256');
  const b2 = createHash('blake2b512');
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  while (bytes < input.size) {
    const n = readSync(input.fd, buf, 0, Math.min(CHUNK, input.size - bytes), bytes);
    if (n === 0) break;
    const chunk = buf.subarray(0, n);
    sha.update(chunk);
    b2.update(chunk);
    bytes += n;
  }
  return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
}
