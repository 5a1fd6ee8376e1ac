/**
 * A small, reproducible zip writer for pack archives.
 *
 * Why not archiver: archiver (zip-stream → compress-commons) computes the CRC-32 of stored
 * entries in JavaScript (crc-32, ~440 MB/s here) and writes streamed entries with data
 * descriptors, which java.util.zip.ZipInputStream (Android's streaming reader) refuses for
 * stored entries. This writer writes a finished local header, then the data: nothing is
 * patched afterwards, so the archive's bytes are seen once, in order, as they are written
 * (the build hashes the archive for its signature from them). No data descriptors, no extra
 * fields, no clocks.
 *
 * The archive is assembled in a ring of fixed slots (a `SlotRing`; the build's is shared
 * with the hashing worker, see stream-digest.ts): a file whose CRC-32 is known beforehand
 * (the variant cache stores it beside the SHA-256 when it makes a variant) is read straight
 * into the ring, its SHA-256 checked on the way, in one pass and with big reads; each full
 * slot is written with one call and handed to the hasher. A file whose CRC-32 is not known
 * is read whole into a reused buffer first (or, above 16 MiB, read twice). Memory stays at
 * the ring plus that buffer, whatever the archive's size. I/O is synchronous: the main
 * thread has nothing else to do meanwhile, and each async call would cost a thread-pool
 * round trip per file.
 *
 * Layout per entry: local header (version 2.0, UTF-8 flag, fixed DOS time) + data; then the
 * central directory (made by Unix, mode 0644 regular file) and the end record. Zip64 is
 * not needed for packs (each entry and the whole archive stay under 4 GiB) and is refused.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, write } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import type { SlotRing } from './stream-digest.js';
import { MAX32, centralHeader, dosDateTime, localHeader, tooLarge } from './zip-format.js';

export { ZIP_EPOCH, dosDateTime, fromDosDateTime } from './zip-format.js';

export type ZipMethod = 'store' | 'deflate';

export interface ZipEntryInput {
  /** Entry name (POSIX path inside the archive). */
  name: string;
  /** In-memory content (JSON, signatures): deflated or stored per `method`. */
  data?: Uint8Array;
  /** A file to stream (always stored: variants are already compressed images). */
  file?: string;
  method: ZipMethod;
  /**
   * When given, the streamed file must have exactly this size and SHA-256. With `crc32`
   * too (recorded when the file was made), the file is read once, straight into the archive.
   */
  expect?: { size: number; sha256: string; crc32?: number };
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
   * Where the archive is assembled and who consumes its bytes (the build's hashing worker):
   * every byte is submitted exactly once, in file order, as it is written.
   */
  ring?: SlotRing;
  /**
   * Without a ring: sees every byte of the archive exactly once, in file order, as it is
   * written (the chunk is reused once it returns; a returned promise holds the writer back).
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
export const DEFAULT_DEFLATE_LEVEL = 9;


/** A private ring for callers without one: each slot goes to `onData`. */
function plainRing(onData?: (chunk: Uint8Array) => void | Promise<void>): SlotRing {
  const ring = Buffer.allocUnsafeSlow(2 * SLOT);
  return { ring, slots: 2, slotSize: SLOT, submit: (i, n) => onData?.(ring.subarray(i * SLOT, i * SLOT + n)) };
}

const SLOT = 1024 * 1024;

/**
 * The archive file, written through a ring: bytes go into the slot being filled; a full
 * slot is handed to the ring's consumer and written (on libuv's thread pool, so that the
 * kernel's copy overlaps this thread's reading and hashing), and is filled again once both
 * are done. Writes land at their own offsets, so their order does not matter.
 */
class Output {
  /** Bytes of the archive so far (in slots, written or not). */
  offset = 0;
  private slot = -1;
  private fill = 0;
  private readonly free: number[];
  /** Slots being consumed and written, each with the promise of both being done. */
  private readonly busy = new Map<number, Promise<void>>();
  private failure: unknown;
  constructor(
    private readonly fd: number,
    private readonly ring: SlotRing,
  ) {
    this.free = Array.from({ length: ring.slots }, (_, i) => ring.slots - 1 - i);
  }

  /** Free room in the current slot (at least one byte), taking a slot when none is held. */
  async room(): Promise<Buffer> {
    if (this.slot < 0) {
      while (this.free.length === 0) await Promise.race(this.busy.values());
      if (this.failure !== undefined) throw this.failure;
      this.slot = this.free.pop()!;
      this.fill = 0;
    }
    const base = this.slot * this.ring.slotSize;
    return this.ring.ring.subarray(base + this.fill, base + this.ring.slotSize);
  }

  /** `n` bytes of the last `room()` now hold the archive's next bytes. */
  commit(n: number): void {
    if (this.offset + n > MAX32) throw tooLarge('the archive');
    this.fill += n;
    this.offset += n;
    if (this.fill === this.ring.slotSize) this.flush();
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const room = await this.room();
      const n = Math.min(room.length, bytes.length - at);
      room.set(bytes.subarray(at, at + n));
      at += n;
      this.commit(n);
    }
  }

  /**
   * Copies `size` bytes of the open file `src` into the archive, each piece also given to
   * `seen`; returns how many there were (fewer when the file is shorter).
   */
  async copy(src: number, size: number, seen: (piece: Uint8Array) => void): Promise<number> {
    let done = 0;
    while (done < size) {
      const room = await this.room();
      const n = readSync(src, room, 0, Math.min(room.length, size - done), done);
      if (n === 0) break;
      seen(room.subarray(0, n));
      done += n;
      this.commit(n);
    }
    return done;
  }

  /** Writes out the slot being filled (if any), waits for every write, flushes the file to disk. */
  async finish(): Promise<void> {
    this.flush();
    await Promise.all(this.busy.values());
    if (this.failure !== undefined) throw this.failure;
    fsyncSync(this.fd);
  }

  /** Waits for the writes in flight (on failure, before the file is closed and removed). */
  async settle(): Promise<void> {
    await Promise.all(this.busy.values());
  }

  private flush(): void {
    const slot = this.slot;
    const n = this.fill;
    this.slot = -1;
    this.fill = 0;
    if (slot < 0) return;
    if (n === 0) {
      this.free.push(slot);
      return;
    }
    const start = slot * this.ring.slotSize;
    const position = this.offset - n;
    const consumed = this.ring.submit(slot, n);
    const done = Promise.all([consumed, writeAll(this.fd, this.ring.ring, start, n, position)])
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .then(() => {
        this.busy.delete(slot);
        this.free.push(slot);
      });
    this.busy.set(slot, done);
  }
}

/** Writes `length` bytes of `buf` from `offset` at `position` of `fd` (thread pool). */
async function writeAll(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    done += await new Promise<number>((resolve, reject) =>
      write(fd, buf, offset + done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}

/** Files up to this size are read whole into one reused buffer; larger ones are read twice. */
const MAX_BUFFERED = 16 * 1024 * 1024;

/** Opens a source file for reading; O_NONBLOCK, so a FIFO in its place fails instead of hanging. */
function openSource(path: string): number {
  return openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
}

/** Reads up to `length` bytes at `position` into `buf`; returns how many there were. */
function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Writes the entries, in the order given, to `path` (which must not exist: callers pass a
 * temporary path and rename it). Returns what was written, per entry.
 */
export async function writeZip(path: string, entries: readonly ZipEntryInput[], options: ZipWriteOptions): Promise<ZipEntryWritten[]> {
  if (entries.length > 0xffff) throw tooLarge('the entry count');
  const dos = dosDateTime(options.mtime);
  const level = options.level ?? DEFAULT_DEFLATE_LEVEL;
  const written: Array<{ e: ZipEntryWritten; name: Buffer; offset: number; method: number }> = [];
  let sourceBytes = 0;
  const counted = (n: number) => {
    sourceBytes += n;
    options.onBytes?.(sourceBytes);
  };
  /** A reused buffer for files whose CRC-32 must be found before their header is written. */
  let scratch = Buffer.alloc(0);
  const scratchOf = (size: number): Buffer => {
    if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, 256 * 1024));
    return scratch;
  };
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
  const out = new Output(fd, options.ring ?? plainRing(options.onData));
  try {
    for (const entry of entries) {
      const name = Buffer.from(entry.name, 'utf8');
      const offset = out.offset;
      if (entry.file !== undefined) {
        if (entry.method !== 'store') throw new RangeError('file entries are stored');
        const r = await writeFileEntry(out, entry.name, name, entry.file, entry.expect, dos, scratchOf);
        counted(r.size);
        written.push({ e: { name: entry.name, method: 'store', size: r.size, compressedSize: r.size, crc32: r.crc, sha256: r.sha256 }, name, offset, method: 0 });
      } else if (entry.data !== undefined) {
        const data = entry.data;
        const crc = crc32(data) >>> 0;
        const body = entry.method === 'deflate' ? deflateRawSync(data, { level }) : data;
        const method = entry.method === 'deflate' ? 8 : 0;
        if (data.length > MAX32) throw tooLarge(entry.name);
        await out.write(localHeader(name, method, dos, crc, body.length, data.length));
        await out.write(body);
        const sha256 = createHash('sha256').update(data).digest('hex');
        written.push({ e: { name: entry.name, method: entry.method, size: data.length, compressedSize: body.length, crc32: crc, sha256 }, name, offset, method });
      } else {
        throw new RangeError(`entry ${entry.name} has neither data nor a file`);
      }
    }
    const cdOffset = out.offset;
    const central = Buffer.concat(written.map((x) => centralHeader(x.name, x.method, dos, x.e, x.offset)));
    await out.write(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(written.length, 8);
    end.writeUInt16LE(written.length, 10);
    end.writeUInt32LE(central.length, 12);
    end.writeUInt32LE(cdOffset, 16);
    await out.write(end);
    await out.finish();
  } finally {
    await out.settle();
    closeSync(fd);
  }
  return written.map((x) => x.e);
}

/**
 * One stored file entry: its header and bytes. With a recorded CRC-32 the file is read
 * once, straight into the archive; otherwise its CRC-32 is found first (from the whole file
 * in `scratch`, or by a first read of a large file, whose second read must agree).
 */
async function writeFileEntry(
  out: Output,
  entryName: string,
  name: Buffer,
  file: string,
  expect: ZipEntryInput['expect'],
  dos: { date: number; time: number },
  scratchOf: (size: number) => Buffer,
): Promise<{ size: number; crc: number; sha256: string }> {
  const mismatch = (actual: { size: number; sha256: string }) =>
    new ZipSourceMismatchError(entryName, file, expect ?? { size: actual.size, sha256: '' }, actual);
  const src = openSource(file);
  try {
    const hash = createHash('sha256');
    if (expect?.crc32 !== undefined) {
      const crc = expect.crc32 >>> 0;
      if (expect.size > MAX32) throw tooLarge(file);
      await out.write(localHeader(name, 0, dos, crc, expect.size, expect.size));
      const size = await out.copy(src, expect.size, (piece) => hash.update(piece));
      const sha256 = hash.digest('hex');
      // Exactly the recorded bytes (a longer file is read only as far as the recorded size):
      // the SHA-256 proves they are the bytes the CRC-32 was recorded for.
      if (size !== expect.size || sha256 !== expect.sha256) throw mismatch({ size, sha256 });
      return { size, crc, sha256 };
    }
    const size = Number(fstatSize(src));
    if (size > MAX32) throw tooLarge(file);
    if (size <= MAX_BUFFERED) {
      // One byte more than the size: a file that grew since the stat is noticed, not cut.
      const buf = scratchOf(size + 1);
      const got = readFully(src, buf, size + 1, 0);
      if (got !== size) throw mismatch({ size: got, sha256: '' });
      const data = buf.subarray(0, size);
      const r = { size, crc: crc32(data) >>> 0, sha256: hash.update(data).digest('hex') };
      if (expect && (expect.size !== r.size || expect.sha256 !== r.sha256)) throw mismatch(r);
      await out.write(localHeader(name, 0, dos, r.crc, r.size, r.size));
      await out.write(data);
      return r;
    }
    let first = 0;
    const buf = scratchOf(CHUNK);
    for (let at = 0; at < size; ) {
      const n = readSync(src, buf, 0, Math.min(CHUNK, size - at), at);
      if (n === 0) throw mismatch({ size: at, sha256: '' });
      first = crc32(buf.subarray(0, n), first);
      at += n;
    }
    first >>>= 0;
    await out.write(localHeader(name, 0, dos, first, size, size));
    let crc = 0;
    const got = await out.copy(src, size, (piece) => {
      hash.update(piece);
      crc = crc32(piece, crc);
    });
    const r = { size: got, crc: crc >>> 0, sha256: hash.digest('hex') };
    if (got !== size || r.crc !== first || (expect && (expect.size !== r.size || expect.sha256 !== r.sha256))) throw mismatch(r);
    return r;
  } finally {
    closeSync(src);
  }
}

function fstatSize(fd: number): number {
  return fstatSync(fd).size;
}
