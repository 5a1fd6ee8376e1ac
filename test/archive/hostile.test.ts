// Hostile archives: each is a valid, signed archive changed in exactly one way, and each
// must be refused with its own code. verifyArchive is called directly (no process spawn), and the
// large-pack cases also through the built CLI.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, createDeflateRaw } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableJson } from '../../src/archive/integrity.js';
import { verifyArchive, type ArchiveVerification } from '../../src/archive/verify.js';
import { generateSecretKey, publicKeyString, signMessage, prehash, type PublicKey } from '../../src/signing/minisign.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { craftZip, resign, sampleFiles, signedArchive, type RawEntry } from './craft.js';

const key = generateSecretKey();
const other = generateSecretKey();
const trusted: PublicKey[] = [key.toPublicKey()];
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('packops-hostile-'));
});
afterAll(() => cleanup());

const codes = (r: ArchiveVerification) => r.findings.map((f) => f.code);
const verify = (zip: string, keys = trusted) => verifyArchive(zip, { keys, cwd: dir });
const webp = (s: string) => Buffer.from(`RIFF${s}`.repeat(10));

describe('a valid crafted archive', () => {
  it('passes, so every case below fails for its one change only', async () => {
    const r = await verify(signedArchive(dir, key, 'valid.zip'));
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.keyId).toBe(key.keyId);
    expect(r.manifest?.slug).toBe('ocean-creatures');
  });
});

describe('unsafe entry names', () => {
  const cases: Array<[string, string | Buffer]> = [
    ['zip-slip', '../../evil.webp'],
    ['zip-slip inside a path', 'assets/../../evil.webp'],
    ['absolute path', '/etc/evil.webp'],
    ['backslash', 'assets\\whale\\evil.webp'],
    ['drive letter', 'C:/evil.webp'],
    ['control character', 'assets/ev\u0007il.webp'],
    ['not UTF-8', Buffer.from([0x61, 0xff, 0xfe, 0x2e, 0x77])],
  ];
  for (const [label, name] of cases) {
    it(`refuses ${label}`, async () => {
      const zip = signedArchive(dir, key, `unsafe-${label.replace(/\W+/g, '-')}.zip`, { extra: [{ name, data: webp('x') }] });
      const r = await verify(zip);
      expect(r.ok).toBe(false);
      expect(codes(r)).toContain('ZIP_UNSAFE_PATH');
      expect(codes(r)).not.toContain('SIGNATURE_INVALID');
    });
  }

  it('refuses a local header that names another file than the central directory', async () => {
    const zip = signedArchive(dir, key, 'local-name.zip', {
      mutate: (entries) => entries.map((e) => (e.name === 'assets/whale/512.webp' ? { ...e, localName: '../../../whale.webp' } : e)),
    });
    expect(codes(await verify(zip))).toContain('ZIP_UNSAFE_PATH');
  });

  it('refuses a Unicode Path extra field that names another file', async () => {
    const second = Buffer.from('../evil.webp');
    const extra = Buffer.alloc(4 + 5 + second.length);
    extra.writeUInt16LE(0x7075, 0);
    extra.writeUInt16LE(5 + second.length, 2);
    extra.writeUInt8(1, 4);
    second.copy(extra, 9);
    const zip = signedArchive(dir, key, 'unicode-path.zip', { extra: [{ name: 'assets/x/1.webp', data: webp('y'), extra }] });
    expect(codes(await verify(zip))).toContain('ZIP_UNSAFE_PATH');
  });
});

describe('links and duplicates', () => {
  it('refuses a symlink entry', async () => {
    const zip = signedArchive(dir, key, 'symlink.zip', { extra: [{ name: 'assets/link.webp', data: Buffer.from('/etc/passwd'), mode: 0o120777 }] });
    const r = await verify(zip);
    expect(codes(r)).toContain('ZIP_LINK');
  });

  it('refuses a duplicated name', async () => {
    const zip = signedArchive(dir, key, 'duplicate.zip', { extra: [{ name: 'assets/whale/512.webp', data: webp('other whale') }] });
    expect(codes(await verify(zip))).toContain('ZIP_DUPLICATE_ENTRY');
  });

  it('refuses names that collide on a case-insensitive file system', async () => {
    const zip = signedArchive(dir, key, 'case.zip', { extra: [{ name: 'assets/WHALE/512.webp', data: webp('w') }] });
    expect(codes(await verify(zip))).toContain('ZIP_DUPLICATE_ENTRY');
  });
});

describe('zip bombs', () => {
  let bomb: { compressed: Buffer; crc: number; size: number };

  beforeAll(async () => {
    // 1 GiB of zeros, deflated while streaming (about 1 MB): never held in memory.
    const size = 1024 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024);
    const deflate = createDeflateRaw({ level: 9 });
    const out: Buffer[] = [];
    deflate.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((resolve) => deflate.on('end', resolve));
    let crc = 0;
    for (let i = 0; i < size / chunk.length; i++) {
      crc = crc32(chunk, crc);
      if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
    }
    deflate.end();
    await ended;
    bomb = { compressed: Buffer.concat(out), crc: crc >>> 0, size };
  }, 120_000);

  it('refuses 1 GiB of zeros by its declared size and ratio, without inflating it', async () => {
    const zip = signedArchive(dir, key, 'bomb.zip', {
      extra: [{ name: 'assets/zeros.webp', method: 8, compressed: bomb.compressed, size: bomb.size, crc: bomb.crc }],
    });
    const r = await verify(zip);
    expect(r.ok).toBe(false);
    expect(codes(r)).toContain('ZIP_BOMB');
  });

  it('stops inflating an entry that lies about its size', async () => {
    const zip = signedArchive(dir, key, 'lying-bomb.zip', {
      extra: [{ name: 'assets/zeros.webp', method: 8, compressed: bomb.compressed, size: 50 * 1024 * 1024, crc: bomb.crc }],
    });
    const r = await verify(zip);
    expect(codes(r)).toContain('ZIP_BOMB');
    expect(r.findings.find((f) => f.code === 'ZIP_BOMB')?.message).toMatch(/more than it declares/);
  });

  it('applies --max-ratio and --max-size', async () => {
    const zip = signedArchive(dir, key, 'ratio.zip', { extra: [{ name: 'assets/z.webp', method: 8, data: Buffer.alloc(200_000) }] });
    expect(codes(await verifyArchive(zip, { keys: trusted, maxRatio: 10 }))).toContain('ZIP_BOMB');
    const valid = signedArchive(dir, key, 'size.zip');
    expect(codes(await verifyArchive(valid, { keys: trusted, maxSize: 1000 }))).toContain('ZIP_BOMB');
  });
});

describe('corrupt archives', () => {
  it('reports a truncated zip as ZIP_CORRUPT', async () => {
    const full = readFileSync(signedArchive(dir, key, 'whole.zip'));
    const zip = join(dir, 'truncated.zip');
    writeFileSync(zip, full.subarray(0, Math.floor(full.length * 0.6)));
    resign(zip, key);
    const r = await verify(zip);
    expect(r.ok).toBe(false);
    expect(codes(r)).toContain('ZIP_CORRUPT');
  });

  it('reports a file that is not a zip as ZIP_CORRUPT', async () => {
    const zip = join(dir, 'text.zip');
    writeFileSync(zip, 'this is not a zip file at all\n');
    resign(zip, key);
    expect(codes(await verify(zip))).toContain('ZIP_CORRUPT');
  });

  it('fails when any byte of any stored file is flipped', async () => {
    const sample = sampleFiles();
    const base = readFileSync(signedArchive(dir, key, 'flip-base.zip'));
    let checked = 0;
    for (const file of sample.files) {
      const at = base.indexOf(file.data);
      expect(at).toBeGreaterThan(0);
      for (const offset of [0, Math.floor(file.data.length / 2), file.data.length - 1]) {
        const copy = Buffer.from(base);
        copy[at + offset]! ^= 0x01;
        const zip = join(dir, 'flipped.zip');
        writeFileSync(zip, copy);
        // Re-sign the detached signature: the per-file integrity check alone must catch it.
        resign(zip, key);
        const r = await verify(zip);
        expect(r.ok, `${file.path} byte ${offset}`).toBe(false);
        expect(codes(r)).toContain('INTEGRITY_MISMATCH');
        checked++;
      }
    }
    expect(checked).toBe(sample.files.length * 3);
  });

  it('fails on a flipped byte anywhere in the archive, headers included', async () => {
    const base = readFileSync(signedArchive(dir, key, 'flip-any.zip'));
    const step = Math.max(1, Math.floor(base.length / 60));
    for (let i = 0; i < base.length; i += step) {
      const copy = Buffer.from(base);
      copy[i]! ^= 0x20;
      const zip = join(dir, 'flipped-any.zip');
      writeFileSync(zip, copy);
      writeFileSync(`${zip}.minisig`, readFileSync(join(dir, 'flip-any.zip.minisig')));
      const r = await verify(zip);
      expect(r.ok, `byte ${i}`).toBe(false);
    }
  });
});

describe('integrity and signatures', () => {
  it('reports an extra file and a missing file', async () => {
    const extra = await verify(signedArchive(dir, key, 'extra.zip', { extra: [{ name: 'secrets/.env', data: Buffer.from('TOKEN=1') }] }));
    expect(codes(extra)).toContain('INTEGRITY_EXTRA_FILE');
    const missing = await verify(
      signedArchive(dir, key, 'missing.zip', { mutate: (entries) => entries.filter((e) => e.name !== 'assets/crab/512.webp') }),
    );
    expect(codes(missing)).toContain('INTEGRITY_MISSING_FILE');
  });

  it('reports an archive signed by another key as SIGNATURE_UNTRUSTED_KEY', async () => {
    const r = await verify(signedArchive(dir, other, 'other-key.zip'));
    expect(codes(r)).toContain('SIGNATURE_UNTRUSTED_KEY');
    expect(r.findings.filter((f) => f.code === 'SIGNATURE_UNTRUSTED_KEY')).toHaveLength(2);
    // …and accepts it when that key is trusted too (a rotation).
    expect((await verify(join(dir, 'other-key.zip'), [...trusted, other.toPublicKey()])).ok).toBe(true);
  });

  it('reports a valid signature over a different INTEGRITY.json as SIGNATURE_INVALID', async () => {
    const otherIntegrity = Buffer.from('{"version":1,"algorithm":"sha256","files":[]}\n');
    const sig = signMessage(key, prehash(otherIntegrity), { trustedComment: 'slug=ocean-creatures version=1.0.0' });
    const r = await verify(signedArchive(dir, key, 'swapped-sig.zip', { integritySignature: sig }));
    expect(codes(r)).toContain('SIGNATURE_INVALID');
    expect(r.ok).toBe(false);
  });

  it('reports signatures naming another pack or version as SIGNATURE_COMMENT_MISMATCH', async () => {
    const r = await verify(signedArchive(dir, key, 'renamed.zip', { trustedComment: 'slug=forest-scenes version=1.0.0' }));
    expect(codes(r).filter((c) => c === 'SIGNATURE_COMMENT_MISMATCH')).toHaveLength(2);
  });

  it('reports a missing detached signature and a missing inner signature as SIGNATURE_MISSING', async () => {
    const zip = signedArchive(dir, key, 'no-inner.zip', { mutate: (entries) => entries.filter((e) => e.name !== 'INTEGRITY.json.minisig') });
    expect(codes(await verify(zip))).toContain('SIGNATURE_MISSING');
    const r = await verifyArchive(zip, { keys: trusted, sigPath: join(dir, 'nowhere.minisig') });
    expect(r.findings.filter((f) => f.code === 'SIGNATURE_MISSING')).toHaveLength(2);
  });

  it('checks pack.json against the source schema with the variants set aside', async () => {
    const { manifest, files } = sampleFiles();
    const broken = { ...manifest, category: 'weapons', surprise: true } as unknown as typeof manifest;
    const r = await verify(signedArchive(dir, key, 'bad-manifest.zip', { manifest: broken, files }));
    expect(codes(r)).toContain('SCHEMA');
    expect(r.findings.every((f) => !f.pointer?.includes('variants'))).toBe(true);
  });

  it('reports a variant pack.json names with another hash', async () => {
    const { manifest, files } = sampleFiles();
    const variant = manifest.assets[0]!.variants![0]!;
    const lying = { ...manifest, assets: [{ ...manifest.assets[0]!, variants: [{ ...variant, sha256: '0'.repeat(64) }] }, ...manifest.assets.slice(1)] };
    expect(codes(await verify(signedArchive(dir, key, 'variant-hash.zip', { manifest: lying, files })))).toContain('INTEGRITY_MISMATCH');
  });
});

describe('large packs', () => {
  /** A 1,000-asset pack (the schema's maximum) with three variants per asset. */
  const bigPack = (extra: Record<string, unknown> = {}) => {
    const { manifest } = sampleFiles();
    const files: Array<{ path: string; data: Buffer }> = [];
    const template = manifest.assets[0]!;
    const assets = Array.from({ length: 1000 }, (_, i) => {
      const id = `bg-${String(i).padStart(4, '0')}`;
      const variants = [2048, 1024, 512].map((w) => {
        const data = webp(`${id}-${w}`);
        const path = `assets/${id}/${w}.webp`;
        files.push({ path, data });
        return { path, name: String(w), format: 'webp' as const, width: w, height: w, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), placeholder: 'A'.repeat(120) };
      });
      return { ...template, id, file: `assets/${id}.png`, variants };
    });
    return { manifest: { ...manifest, cover: 'bg-0000', ...extra, assets }, files };
  };

  it('verifies a pack whose pack.json passes 1 MiB only by its variant records', async () => {
    const { manifest, files } = bigPack();
    expect(Buffer.byteLength(stableJson(manifest))).toBeGreaterThan(1024 * 1024);
    const zip = signedArchive(dir, key, 'big-pack.zip', { manifest, files });
    const r = await verify(zip);
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.manifest?.assets).toHaveLength(1000);
    // The same through the built CLI.
    const cli = await runCli(['verify', zip, '--pubkey', publicKeyString(key.toPublicKey()), '--json'], { cwd: dir });
    expect(cli.code, cli.stderr).toBe(0);
  });

  it('refuses a pack.json whose source manifest (variants set aside) is over 1 MiB, as validate would', async () => {
    const { manifest, files } = bigPack({ description: 'x'.repeat(1024 * 1024) });
    const r = await verify(signedArchive(dir, key, 'big-source.zip', { manifest: manifest as typeof manifest, files }));
    expect(codes(r)).toContain('MANIFEST_UNREADABLE');
    expect(r.findings.find((f) => f.code === 'MANIFEST_UNREADABLE')?.message).toMatch(/source manifest of \d+ bytes/);
    expect(r.ok).toBe(false);
    const cli = await runCli(['verify', join(dir, 'big-source.zip'), '--pubkey', publicKeyString(key.toPublicKey()), '--json'], { cwd: dir });
    expect(cli.code, cli.stderr).toBe(1);
    expect(cli.stdout).toContain('MANIFEST_UNREADABLE');
  });
});

describe('craftZip sanity', () => {
  it('is readable by the verifier when nothing is wrong (no hidden state)', async () => {
    const zip = join(dir, 'plain.zip');
    const entries: RawEntry[] = [{ name: 'a.txt', data: Buffer.from('a') }];
    writeFileSync(zip, craftZip(entries));
    writeFileSync(`${zip}.minisig`, signMessage(key, prehash(readFileSync(zip)), { trustedComment: 'x' }));
    const r = await verify(zip);
    // No INTEGRITY.json: reported as such, and the signature itself verified.
    expect(codes(r)).toEqual(expect.arrayContaining(['INTEGRITY_MISSING_FILE', 'SIGNATURE_MISSING']));
    expect(codes(r)).not.toContain('SIGNATURE_INVALID');
    expect(createHash('sha256').update(readFileSync(zip)).digest('hex')).toBe(r.sha256);
  });
});
