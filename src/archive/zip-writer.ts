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
import { open } from 'node:fs/promises';
import type { OpenedInput } from '../shared/input.js';
import { crc32, deflateRawSync } from 'node:zlib';
import type { SlotRing } from './stream-digest.js';

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
