// The zip writer and the archive core: structure, CRCs, timestamps, atomic refusal.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePackArchive } from '../../src/archive/build.js';
import { sourceDateEpochFrom } from '../../src/shared/source-date.js';
import { dosDateTime, fromDosDateTime, writeZip, ZIP_EPOCH, ZipSourceMismatchError } from '../../src/archive/zip-writer.js';
import { generateSecretKey } from '../../src/signing/minisign.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('packops-zip-'));
});
afterAll(() => cleanup());

async function readAll(zip: string) {
  const z = await yauzl.openPromise(zip, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  const out: Array<{ name: string; data: Buffer; crc: number; method: number; flags: number; extra: number; time: number; date: number }> = [];
  for await (const e of z.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const c of await z.openReadStreamPromise(e)) chunks.push(c as Buffer);
    out.push({
      name: e.fileName,
      data: Buffer.concat(chunks),
      crc: e.crc32,
      method: e.compressionMethod,
      flags: e.generalPurposeBitFlag,
      extra: e.extraFieldLength,
      time: e.lastModFileTime,
      date: e.lastModFileDate,
    });
  }
  z.close();
  return out;
}

describe('dos timestamps', () => {
  it('round-trips UTC instants at two-second resolution and clamps to 1980-01-01', () => {
    const t = Date.UTC(2026, 9, 31, 23, 59, 58) / 1000;
    const { date, time } = dosDateTime(t);
    expect(fromDosDateTime(date, time)).toBe(t);
    expect(fromDosDateTime(dosDateTime(t + 1).date, dosDateTime(t + 1).time)).toBe(t);
    expect(dosDateTime(0)).toEqual(dosDateTime(ZIP_EPOCH));
    expect(dosDateTime(ZIP_EPOCH)).toEqual({ date: 0x21, time: 0 });
  });

  it('reads SOURCE_DATE_EPOCH strictly', () => {
    expect(sourceDateEpochFrom({ SOURCE_DATE_EPOCH: '1767225600' })).toBe(1767225600);
    expect(sourceDateEpochFrom({})).toBeUndefined();
    expect(() => sourceDateEpochFrom({ SOURCE_DATE_EPOCH: '2026-01-01' })).toThrow(/whole number/);
  });
});

describe('writeZip', () => {
  it('writes stored and deflated entries with correct CRCs, no data descriptors and no extra fields', async () => {
    const file = join(dir, 'big.webp');
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    writeFileSync(file, big);
    const json = Buffer.from(JSON.stringify({ hello: 'world'.repeat(100) }));
    const zip = join(dir, 'a.zip');
    const written = await writeZip(
      zip,
      [
        { name: 'a.json', data: json, method: 'deflate' },
        { name: 'assets/x/big.webp', file, method: 'store' },
      ],
      { mtime: Date.UTC(2026, 0, 1) / 1000 },
    );
    expect(written[1]).toMatchObject({ size: big.length, compressedSize: big.length, sha256: createHash('sha256').update(big).digest('hex') });
    const entries = await readAll(zip);
    expect(entries.map((e) => e.name)).toEqual(['a.json', 'assets/x/big.webp']);
    expect(entries[0]!.data.equals(json)).toBe(true);
    expect(entries[1]!.data.equals(big)).toBe(true);
    for (const e of entries) {
      expect(e.crc).toBe(crc32(e.data) >>> 0);
      expect(e.flags & 0x08).toBe(0); // no data descriptor
      expect(e.flags & 0x0800).toBe(0x0800); // UTF-8 names
      expect(e.extra).toBe(0);
      expect(fromDosDateTime(e.date, e.time)).toBe(Date.UTC(2026, 0, 1) / 1000);
    }
    expect(entries.map((e) => e.method)).toEqual([8, 0]);
  });
});

describe('writeZip through its ring', () => {
  it('writes every file entry with its own bytes, the slots reused and the writes in flight', async () => {
    const src = join(dir, 'many');
    (await import('node:fs')).mkdirSync(src);
    // Sizes that grow and shrink, so the two buffers are reused and regrown.
    const files = Array.from({ length: 120 }, (_, i) => {
      const data = Buffer.alloc(1000 + ((i * 7919) % 700) * 1024, i);
      data.writeUInt32LE(i, data.length >> 1);
      const path = join(src, `f${i}.bin`);
      writeFileSync(path, data);
      return { name: `assets/f${String(i).padStart(3, '0')}.bin`, path, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
    });
    const zip = join(dir, 'many.zip');
    const chunks: Buffer[] = [];
    await writeZip(
      zip,
      files.map((f) => ({ name: f.name, file: f.path, method: 'store' as const, expect: { size: f.size, sha256: f.sha256 } })),
      { mtime: ZIP_EPOCH, onData: (c) => void chunks.push(Buffer.from(c)) },
    );
    // onData saw exactly the archive's bytes, in order.
    expect(Buffer.concat(chunks).equals(readFileSync(zip))).toBe(true);
    const read = await readAll(zip);
    expect(read.map((e) => createHash('sha256').update(e.data).digest('hex'))).toEqual(files.map((f) => f.sha256));
    for (const e of read) expect(crc32(e.data) >>> 0).toBe(e.crc >>> 0);
  });
});

describe('writeZip with recorded CRC-32s', () => {
  const make = (name: string, data: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return { path, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), crc32: crc32(data) >>> 0 };
  };

  it('reads each file once into the archive and writes the same bytes as without them', async () => {
    // Sizes around the 1 MiB slot, so that files cross slots.
    const files = [3, 1024 * 1024 - 40, 1024 * 1024 + 5, 70_000, 2_500_000].map((n, i) => {
      const data = Buffer.alloc(n, i + 1);
      for (let j = 0; j < n; j += 997) data[j] = (j * 31) & 0xff;
      return { name: `assets/x/${i}.webp`, ...make(`r${i}.webp`, data) };
    });
    const json = { name: 'INTEGRITY.json', data: Buffer.from('{"a":1}\n'), method: 'deflate' as const };
    const withCrc = join(dir, 'with-crc.zip');
    const without = join(dir, 'without-crc.zip');
    const chunks: Buffer[] = [];
    await writeZip(withCrc, [json, ...files.map((f) => ({ name: f.name, file: f.path, method: 'store' as const, expect: { size: f.size, sha256: f.sha256, crc32: f.crc32 } }))], {
      mtime: ZIP_EPOCH,
      onData: (c) => void chunks.push(Buffer.from(c)),
    });
    await writeZip(without, [json, ...files.map((f) => ({ name: f.name, file: f.path, method: 'store' as const, expect: { size: f.size, sha256: f.sha256 } }))], { mtime: ZIP_EPOCH });
    expect(readFileSync(withCrc).equals(readFileSync(without))).toBe(true);
    expect(Buffer.concat(chunks).equals(readFileSync(withCrc))).toBe(true);
    const read = await readAll(withCrc);
    for (const e of read) expect(crc32(e.data) >>> 0).toBe(e.crc >>> 0);
  });

  it('hands the archive to the hashing worker slot by slot: its digests are those of the file', async () => {
    const { streamDigest } = await import('../../src/archive/stream-digest.js');
    const { hashFile } = await import('../../src/archive/file-digest.js');
    // More than the ring holds (6 × 2 MiB), so slots are waited for and reused.
    const files = Array.from({ length: 40 }, (_, i) => {
      const data = Buffer.alloc(300_000 + i * 7_001, i);
      data.writeUInt32LE(i * 2654435761 >>> 0, 1000);
      return { name: `assets/w/${String(i).padStart(2, '0')}.webp`, ...make(`w${i}.webp`, data) };
    });
    const zip = join(dir, 'hashed.zip');
    const hasher = streamDigest();
    await writeZip(zip, files.map((f) => ({ name: f.name, file: f.path, method: 'store' as const, expect: { size: f.size, sha256: f.sha256, crc32: f.crc32 } })), {
      mtime: ZIP_EPOCH,
      ring: hasher,
    });
    const digest = await hasher.digest();
    const direct = await hashFile(zip);
    expect(digest).toEqual({ sha256: direct.sha256, blake2b512: direct.blake2b512, bytes: direct.bytes });
  });

  it('refuses a file whose bytes are not the recorded ones (one byte off, shorter), and takes only the recorded bytes of a longer one', async () => {
    const good = Buffer.alloc(200_000, 9);
    const f = make('recorded.webp', good);
    const entry = { name: 'assets/x/a.webp', file: f.path, method: 'store' as const, expect: { size: f.size, sha256: f.sha256, crc32: f.crc32 } };
    const flipped = Buffer.from(good);
    flipped[100_000] = (flipped[100_000] ?? 0) ^ 1;
    writeFileSync(f.path, flipped);
    await expect(writeZip(join(dir, 'off.zip'), [entry], { mtime: ZIP_EPOCH })).rejects.toBeInstanceOf(ZipSourceMismatchError);
    writeFileSync(f.path, good.subarray(0, 150_000));
    await expect(writeZip(join(dir, 'short.zip'), [entry], { mtime: ZIP_EPOCH })).rejects.toMatchObject({ actual: { size: 150_000 } });
    writeFileSync(f.path, Buffer.concat([good, Buffer.from('tail')]));
    await writeZip(join(dir, 'long.zip'), [entry], { mtime: ZIP_EPOCH });
    const [e] = await readAll(join(dir, 'long.zip'));
    expect(e!.data.equals(good)).toBe(true);
  });
});

describe('writePackArchive', () => {
  it('stops when a variant changed since the lock, leaving no zip, signature or temporary file', async () => {
    const file = join(dir, 'v.webp');
    writeFileSync(file, 'RIFF-variant');
    const expected = createHash('sha256').update('RIFF-other').digest('hex');
    await expect(
      writePackArchive({
        zipPath: join(dir, 'refuse.zip'),
        slug: 'x-pack',
        version: '1.0.0',
        packJson: Buffer.from('{}\n'),
        variants: [{ path: 'assets/a/1.webp', file, bytes: 12, sha256: expected }],
        secretKey: generateSecretKey(),
      }),
    ).rejects.toMatchObject({ code: 'VARIANT_CHANGED', exitCode: 3 });
    expect(readdirSync(dir).filter((n) => n.includes('refuse'))).toEqual([]);
  });

  it('refuses variant paths that are not safe entry names', async () => {
    const file = join(dir, 'w.webp');
    writeFileSync(file, 'RIFF');
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    for (const path of ['../x.webp', 'pack.json', 'assets\\x.webp']) {
      await expect(
        writePackArchive({
          zipPath: join(dir, 'bad.zip'),
          slug: 'x-pack',
          version: '1.0.0',
          packJson: Buffer.from('{}\n'),
          variants: [{ path, file, bytes: 4, sha256: sha }],
          secretKey: generateSecretKey(),
        }),
      ).rejects.toMatchObject({ code: 'VARIANT_PATH_UNSAFE' });
    }
  });
});
