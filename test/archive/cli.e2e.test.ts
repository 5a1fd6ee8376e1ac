// keys generate, build and verify as users and CI run them: the built CLI in a process.
// Build first: npx tsc -p tsconfig.build.json
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyArchive } from '../../src/archive/verify.js';
import { loadTrustedKeys } from '../../src/signing/keys.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const ZIP = 'dist/ocean-creatures-1.0.0.zip';
let root: string;
let cleanup: () => void;

function copyPack(dest: string, name = 'ocean-creatures'): string {
  cpSync(join(FIXTURES, 'packs', name), dest, { recursive: true, filter: (src) => !src.includes('.packops') });
  return dest;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function entryNames(zip: string): Promise<Array<{ name: string; method: number; mode: number; dataStart: number; size: number }>> {
  const z = await yauzl.openPromise(zip, { lazyEntries: true, autoClose: false });
  const out = [];
  for await (const e of z.eachEntry()) {
    const local = await z.readLocalFileHeaderPromise(e);
    out.push({ name: e.fileName, method: e.compressionMethod, mode: e.externalFileAttributes >>> 16, dataStart: local.fileDataStart, size: e.compressedSize });
  }
  z.close();
  return out;
}

async function entryText(zip: string, name: string): Promise<string> {
  const z = await yauzl.openPromise(zip, { lazyEntries: true, autoClose: false });
  try {
    for await (const e of z.eachEntry()) {
      if (e.fileName !== name) continue;
      const chunks: Buffer[] = [];
      for await (const c of await z.openReadStreamPromise(e)) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
  } finally {
    z.close();
  }
  throw new Error(`${name} is not in ${zip}`);
}

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('packops-archive-e2e-'));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  copyPack(join(root, 'a', 'ocean'));
  copyPack(join(root, 'b', 'elsewhere', 'ocean'));
  // Files that must never enter an archive.
  writeFileSync(join(root, 'a', 'ocean', '.env'), 'API_TOKEN=do-not-ship\n');
  writeFileSync(join(root, 'a', 'ocean', 'assets', 'notes.txt'), 'private notes\n');
  const r = await runCli(['keys', 'generate', '--unencrypted', '--out', 'keys', '--json'], { cwd: root });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => cleanup());

describe('keys generate', () => {
  it('writes packops.pub and packops.key (0600), prints the key id and public key, never the secret', async () => {
    const r = await runCli(['keys', 'generate', '--unencrypted', '--out', 'k1', '--json'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ ok: true, encrypted: false, keyId: expect.stringMatching(/^[0-9A-F]{16}$/) });
    expect(readFileSync(join(root, 'k1', 'packops.pub'), 'utf8')).toContain(out.publicKey);
    expect(statSync(join(root, 'k1', 'packops.key')).mode & 0o777).toBe(0o600);
    const secretLine = readFileSync(join(root, 'k1', 'packops.key'), 'utf8').split('\n')[1]!;
    expect(r.stdout + r.stderr).not.toContain(secretLine.slice(60, 100));
  });

  it('refuses to overwrite a key pair without --force (exit 4), and replaces it with --force', async () => {
    const before = readFileSync(join(root, 'keys', 'packops.key'), 'utf8');
    const r = await runCli(['keys', 'generate', '--unencrypted', '--out', 'keys', '--json'], { cwd: root });
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe('KEY_EXISTS');
    expect(readFileSync(join(root, 'keys', 'packops.key'), 'utf8')).toBe(before);
    const forced = await runCli(['keys', 'generate', '--unencrypted', '--out', 'k1', '--force', '--json'], { cwd: root });
    expect(forced.code).toBe(0);
  });

  it('needs a password for an encrypted key and never prompts without a terminal', async () => {
    const r = await runCli(['keys', 'generate', '--out', 'k2', '--json'], { cwd: root, env: { PACKOPS_KEY_PASSWORD: undefined } });
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('KEY_PASSWORD_REQUIRED');
    expect(existsSync(join(root, 'k2', 'packops.key'))).toBe(false);
  });

  it('encrypts the secret key with PACKOPS_KEY_PASSWORD (scrypt, minisign limits)', async () => {
    const r = await runCli(['keys', 'generate', '--out', 'k3', '--json'], { cwd: root, env: { PACKOPS_KEY_PASSWORD: 'team secret' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().encrypted).toBe(true);
    const bytes = Buffer.from(readFileSync(join(root, 'k3', 'packops.key'), 'utf8').split('\n')[1]!, 'base64');
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('EdScB2');
    // opslimit 2^25 and memlimit 2^30, as minisign -G writes them.
    expect(bytes.readBigUInt64LE(38)).toBe(33554432n);
    expect(bytes.readBigUInt64LE(46)).toBe(1073741824n);
    // The password opens it; a wrong one is refused.
    const { loadSecretKey } = await import('../../src/signing/keys.js');
    const opened = await loadSecretKey({ keyPath: join(root, 'k3', 'packops.key'), env: { PACKOPS_KEY_PASSWORD: 'team secret' }, cwd: root });
    expect(opened.keyId).toBe(r.json().keyId);
  }, 120_000);
});

describe('build', () => {
  let first: string;

  it('writes a signed archive holding pack.json, the variants and INTEGRITY.json only', async () => {
    const r = await runCli(['build', 'ocean', '--key', '../keys/packops.key', '--json'], { cwd: join(root, 'a') });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ ok: true, slug: 'ocean-creatures', version: '1.0.0', zip: ZIP, sig: `${ZIP}.minisig` });
    const zip = join(root, 'a', ZIP);
    first = zip;
    expect(out.sha256).toBe(sha256(zip));
    const entries = await entryNames(zip);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names.slice(0, 2)).toEqual(['INTEGRITY.json', 'INTEGRITY.json.minisig']);
    expect(names).toContain('pack.json');
    for (const n of names.filter((x) => x.startsWith('assets/'))) expect(n).toMatch(/^assets\/[a-z0-9-]+\/[^/]+\.(webp|png|jpe?g|avif)$/);
    expect(names.some((n) => n.includes('.env') || n.includes('notes') || n.endsWith('whale.png'))).toBe(false);
    for (const e of entries) {
      expect(e.mode).toBe(0o100644);
      expect(e.method).toBe(/\.(json|minisig)$/.test(e.name) ? 8 : 0);
    }
    const integrity = JSON.parse(await entryText(zip, 'INTEGRITY.json'));
    expect(integrity).toMatchObject({ version: 1, algorithm: 'sha256' });
    expect(integrity.files.map((f: { path: string }) => f.path)).toEqual(names.filter((n) => !n.startsWith('INTEGRITY.json')));
    const packJson = JSON.parse(await entryText(zip, 'pack.json'));
    expect(packJson.assets[0].variants.length).toBeGreaterThan(0);
  });

  it('is verified by the minisign binary, with the trusted comment slug=… version=…', () => {
    const r = spawnSync('minisign', ['-Vm', first, '-p', join(root, 'keys', 'packops.pub'), '-Q'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('slug=ocean-creatures version=1.0.0');
  });

  it('is reproducible: another folder, another time, the key from PACKOPS_SECRET_KEY → the same bytes', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const r = await runCli(['build', 'elsewhere/ocean', '--out', 'out', '--json'], {
      cwd: join(root, 'b'),
      env: { PACKOPS_SECRET_KEY: readFileSync(join(root, 'keys', 'packops.key'), 'utf8') },
    });
    expect(r.code, r.stderr).toBe(0);
    const second = join(root, 'b', 'out', 'ocean-creatures-1.0.0.zip');
    expect(sha256(second)).toBe(sha256(first));
    expect(readFileSync(`${second}.minisig`, 'utf8')).toBe(readFileSync(`${first}.minisig`, 'utf8'));
  });

  it('changes when one asset changes', async () => {
    const pack = copyPack(join(root, 'c', 'ocean'));
    const whale = join(pack, 'assets', 'whale.png');
    const { data, info } = await sharp(whale).raw().toBuffer({ resolveWithObject: true });
    const at = (256 * info.width + 256) * info.channels;
    data[at] = data[at]! ^ 0xff;
    writeFileSync(whale, await sharp(data, { raw: info }).png().toBuffer());
    const r = await runCli(['build', 'ocean', '--key', '../keys/packops.key', '--json'], { cwd: join(root, 'c') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().sha256).not.toBe(sha256(first));
  });

  it('refuses a pack with findings (exit 1, the findings, no archive)', async () => {
    const pack = copyPack(join(root, 'd', 'ocean'));
    const manifest = JSON.parse(readFileSync(join(pack, 'pack.json'), 'utf8'));
    manifest.category = 'weapons';
    writeFileSync(join(pack, 'pack.json'), JSON.stringify(manifest, null, 2));
    const r = await runCli(['build', 'ocean', '--key', '../keys/packops.key', '--json'], { cwd: join(root, 'd') });
    expect(r.code).toBe(1);
    const report = r.json();
    expect(report.ok).toBe(false);
    expect(report.results[0].findings.map((f: { code: string }) => f.code)).toContain('SCHEMA');
    expect(existsSync(join(root, 'd', 'dist'))).toBe(false);
  });

  it('reports a missing key as a usage error and a bad key file as KEY_INVALID (exit 3)', async () => {
    const none = await runCli(['build', 'ocean', '--json'], { cwd: join(root, 'a'), env: { PACKOPS_SECRET_KEY: undefined } });
    expect(none.code).toBe(2);
    writeFileSync(join(root, 'not-a-key'), 'hello\n');
    const bad = await runCli(['build', 'ocean', '--key', '../not-a-key', '--json'], { cwd: join(root, 'a') });
    expect(bad.code).toBe(3);
    expect(bad.json().error.code).toBe('KEY_INVALID');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('verify', () => {
  it('accepts the built archive (exit 0, one JSON report)', async () => {
    const r = await runCli(['verify', ZIP, '--pubkey', '../keys/packops.pub', '--json'], { cwd: join(root, 'a') });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = r.json();
    expect(report).toMatchObject({ ok: true, results: [{ target: ZIP, ok: true, findings: [] }] });
    expect(report.results[0].sha256).toBe(sha256(join(root, 'a', ZIP)));
  });

  it('accepts it from a trusted-keys folder holding the old and the new key (rotation)', async () => {
    mkdirSync(join(root, 'trusted'));
    copyFileSync(join(root, 'k1', 'packops.pub'), join(root, 'trusted', 'new.pub'));
    copyFileSync(join(root, 'keys', 'packops.pub'), join(root, 'trusted', 'old.pub'));
    const r = await runCli(['verify', ZIP, '--trusted-keys', '../trusted'], { cwd: join(root, 'a') });
    expect(r.code, r.stdout).toBe(0);
    const only = await runCli(['verify', ZIP, '--pubkey', '../k1/packops.pub', '--json'], { cwd: join(root, 'a') });
    expect(only.code).toBe(1);
    expect(only.json().results[0].findings.map((f: { code: string }) => f.code)).toContain('SIGNATURE_UNTRUSTED_KEY');
  });

  it('fails on a flipped byte in every stored file of a real build', async () => {
    const zip = join(root, 'a', ZIP);
    const bytes = readFileSync(zip);
    const keys = await loadTrustedKeys({ pubkey: join(root, 'keys', 'packops.pub'), cwd: root });
    const stored = (await entryNames(zip)).filter((e) => e.method === 0);
    expect(stored.length).toBeGreaterThan(5);
    for (const e of stored) {
      const copy = Buffer.from(bytes);
      copy[e.dataStart + Math.floor(e.size / 2)]! ^= 0x40;
      const tampered = join(root, 'tampered.zip');
      writeFileSync(tampered, copy);
      copyFileSync(`${zip}.minisig`, `${tampered}.minisig`);
      const r = await verifyArchive(tampered, { keys });
      expect(r.ok, e.name).toBe(false);
      const codes = r.findings.map((f) => f.code);
      expect(codes).toContain('INTEGRITY_MISMATCH');
      expect(codes).toContain('SIGNATURE_INVALID');
    }
  });

  it('prints GitHub annotations for a tampered archive (exit 1)', async () => {
    const r = await runCli(['verify', join(root, 'tampered.zip'), '--pubkey', 'keys/packops.pub', '--format', 'github'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error .*title=INTEGRITY_MISMATCH::/);
  });

  it('reports a missing signature file as a finding and a missing archive as an input error', async () => {
    copyFileSync(join(root, 'a', ZIP), join(root, 'unsigned.zip'));
    const r = await runCli(['verify', 'unsigned.zip', '--pubkey', 'keys/packops.pub', '--json'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.json().results[0].findings.map((f: { code: string }) => f.code)).toEqual(['SIGNATURE_MISSING']);
    const missing = await runCli(['verify', 'nope.zip', '--pubkey', 'keys/packops.pub', '--json'], { cwd: root });
    expect(missing.code).toBe(3);
    expect(missing.json().error.code).toBe('PATH_NOT_FOUND');
  });

  it('refuses a public key file that is not a minisign key with KEY_INVALID (exit 3)', async () => {
    const r = await runCli(['verify', join('a', ZIP), '--pubkey', 'not-a-key', '--json'], { cwd: root });
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('KEY_INVALID');
    const usage = await runCli(['verify', join('a', ZIP)], { cwd: root });
    expect(usage.code).toBe(2);
  });

  it('--rebuild reports byte-identical sources, and REBUILD_MISMATCH for changed ones', async () => {
    const same = await runCli(['verify', ZIP, '--pubkey', '../keys/packops.pub', '--rebuild', '../b/elsewhere/ocean', '--json'], { cwd: join(root, 'a') });
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.json().results[0].rebuild).toMatchObject({ identical: true });
    const changed = await runCli(['verify', ZIP, '--pubkey', '../keys/packops.pub', '--rebuild', '../c/ocean', '--json'], { cwd: join(root, 'a') });
    expect(changed.code).toBe(1);
    const result = changed.json().results[0];
    expect(result.rebuild.identical).toBe(false);
    expect(result.rebuild.differing).toContain('pack.json');
    expect(result.rebuild.differing.some((p: string) => p.startsWith('assets/whale/'))).toBe(true);
    expect(result.findings.map((f: { code: string }) => f.code)).toContain('REBUILD_MISMATCH');
  });
});
