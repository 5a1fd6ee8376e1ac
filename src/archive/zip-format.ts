/**
 * The zip records packops writes (APPNOTE 6.3): local and central headers for a stored or
 * deflated entry with the UTF-8 flag, a fixed MS-DOS time, no extra fields, made by Unix
 * with mode 0644; and the MS-DOS date/time conversions both ways. No Zip64: an entry, the
 * archive or the entry count past its limits is refused (tooLarge).
 */

export const MAX32 = 0xffffffff;
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | 20; // Unix, spec 2.0
const FLAG_UTF8 = 0x0800;
const MODE_FILE_0644 = 0o100644;

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

export function localHeader(name: Buffer, method: number, dos: { date: number; time: number }, crc: number, csize: number, size: number): Buffer {
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

export function centralHeader(
  name: Buffer,
  method: number,
  dos: { date: number; time: number },
  e: { crc32: number; compressedSize: number; size: number },
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

export function tooLarge(what: string): Error {
  return new RangeError(`${what} exceeds what a zip without Zip64 can hold (4 GiB, 65535 entries)`);
}
