// Interop with archives made by `archiver`, the standard Node zip library: a pack re-packed
// with it (streamed entries with data descriptors, everything deflated, another entry order)
// and signed by the real `minisign` with the same key still verifies, because verify checks
// contents and signatures, not one writer's layout. packops writes its own archives with
// src/archive/zip-writer.ts (native CRC-32, no data descriptors; see its header comment).
import { spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

let root: string;
let cleanup: () => void;

async function readEntries(zip: string): Promise<Array<{ name: string; data: Buffer }>> {
  const z = await yauzl.openPromise(zip, { lazyEntries: true, autoClose: false });
  const out: Array<{ name: string; data: Buffer }> = [];
  try {
    for await (const e of z.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const c of await z.openReadStreamPromise(e)) chunks.push(c as Buffer);
      out.push({ name: e.fileName, data: Buffer.concat(chunks) });
    }
  } finally {
    z.close();
  }
  return out;
}

async function repackWithArchiver(entries: Array<{ name: string; data: Buffer }>, dest: string): Promise<void> {
  const zip = new ZipArchive({ zlib: { level: 9 } });
  const out = createWriteStream(dest);
  zip.pipe(out);
  // Reverse order, every entry deflated, fed as streams so archiver writes data descriptors.
  for (const e of [...entries].reverse()) {
    zip.append(Readable.from([e.data]), { name: e.name, date: new Date('2026-11-26T00:00:00Z') });
  }
  await zip.finalize();
  await finished(out);
}

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('packops-archiver-interop-'));
  cpSync(join(FIXTURES, 'packs', 'winter-wonders'), join(root, 'winter'), { recursive: true, filter: (src) => !src.includes('.packops') });
  const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', 'keys', '--json'], { cwd: root });
  expect(keys.code, keys.stderr).toBe(0);
  const built = await runCli(['build', 'winter', '--key', 'keys/packops.key', '--json'], { cwd: root });
  expect(built.code, built.stderr).toBe(0);
}, 120_000);
afterAll(() => cleanup());

describe('archives re-packed with archiver', () => {
  it('verify accepts the same signed contents from another zip writer, signed by minisign itself', async () => {
    const ours = join(root, 'dist', 'winter-wonders-1.0.0.zip');
    const entries = await readEntries(ours);
    const theirs = join(root, 'repacked.zip');
    await repackWithArchiver(entries, theirs);
    expect(readFileSync(theirs).equals(readFileSync(ours))).toBe(false);
    // Data descriptors: general-purpose flag bit 3 on the first local header.
    expect(readFileSync(theirs).readUInt16LE(6) & 0x08).toBe(0x08);

    const sign = spawnSync('minisign', ['-S', '-s', 'keys/packops.key', '-m', 'repacked.zip', '-t', 'slug=winter-wonders version=1.0.0'], {
      cwd: root,
      encoding: 'utf8',
      input: '',
    });
    expect(sign.status, sign.stderr).toBe(0);

    const r = await runCli(['verify', 'repacked.zip', '--pubkey', 'keys/packops.pub', '--json'], { cwd: root });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, results: [{ ok: true, findings: [] }] });
  });

  it('and refuses it once one image byte differs, whoever wrote the zip', async () => {
    const ours = join(root, 'dist', 'winter-wonders-1.0.0.zip');
    const entries = await readEntries(ours);
    const image = entries.find((e) => e.name.endsWith('.webp'))!;
    image.data.writeUInt8(image.data.readUInt8(image.data.length - 1) ^ 0x01, image.data.length - 1);
    await repackWithArchiver(entries, join(root, 'tampered.zip'));
    const sign = spawnSync('minisign', ['-S', '-s', 'keys/packops.key', '-m', 'tampered.zip', '-t', 'slug=winter-wonders version=1.0.0'], { cwd: root, encoding: 'utf8', input: '' });
    expect(sign.status, sign.stderr).toBe(0);
    const r = await runCli(['verify', 'tampered.zip', '--pubkey', 'keys/packops.pub', '--json'], { cwd: root });
    expect(r.code).toBe(1);
    const codes = r.json().results[0].findings.map((f: { code: string }) => f.code);
    expect(codes).toContain('INTEGRITY_MISMATCH');
  });
});
