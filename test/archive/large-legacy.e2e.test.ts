/**
 * A legacy (not prehashed) minisign signature over an archive past 2 GiB, the size where one
 * read (readSync's signed 32-bit length) could no longer hold it: verify checks it by
 * streaming, never exit 70, never the whole file in memory. The archive is a sparse file
 * (holes cost no disk), signed by the real minisign binary with -l, as the reviewer did: a
 * signature over another file must be SIGNATURE_INVALID, the right one must verify (so the
 * test fails for a refusal as much as for a crash). Only a file system that cannot hold a
 * sparse file leaves it out, and says so.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyFile, formatSecretKeyFile, generateSecretKey } from '../../src/signing/minisign.js';
import { runCli, tempDir } from '../helpers/cli.js';

const SIZE = 2049 * 1024 * 1024; // 2 GiB + 1 MiB
const tmp = tempDir('packops-large-legacy-');
const zip = join(tmp.dir, 'big.zip');
const key = generateSecretKey();
let sparse = false;

function minisign(args: string[]) {
  const r = spawnSync('minisign', args, { cwd: tmp.dir, input: '', encoding: 'utf8' });
  if (r.error) throw new Error(`minisign is not installed (apt-get install minisign): ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(async () => {
  writeFileSync(join(tmp.dir, 'k.pub'), formatPublicKeyFile(key));
  writeFileSync(join(tmp.dir, 'k.key'), await formatSecretKeyFile(key), { mode: 0o600 });
  // A few real bytes at the start and the end, holes between.
  const fd = openSync(zip, 'w');
  writeSync(fd, Buffer.from('not a zip, but signed\n'), 0, undefined, 0);
  writeSync(fd, Buffer.from('the last bytes\n'), 0, undefined, SIZE - 15);
  closeSync(fd);
  sparse = statSync(zip).size === SIZE && statSync(zip).blocks * 512 < 64 * 1024 * 1024;
  if (!sparse) {
    console.warn('large-legacy: this file system does not keep sparse files; the 2 GiB legacy-signature cases are not run here.');
    return;
  }
  writeFileSync(join(tmp.dir, 'msg.txt'), 'hello\n');
  minisign(['-S', '-l', '-s', 'k.key', '-m', 'msg.txt', '-x', 'other.minisig', '-t', 'slug=big version=1.0.0']);
  minisign(['-S', '-l', '-s', 'k.key', '-m', 'big.zip', '-x', 'big.zip.minisig', '-t', 'slug=big version=1.0.0']);
}, 300_000);
afterAll(() => tmp.cleanup());

type Finding = { code: string; message: string };

async function verify(...extra: string[]) {
  const r = await runCli(['verify', zip, '--pubkey', join(tmp.dir, 'k.pub'), '--max-size', '3GiB', '--json', ...extra], { timeoutMs: 280_000 });
  expect(r.code, r.stdout + r.stderr).toBe(1);
  const result = r.json().results[0] as { bytes: number; keyId?: string; findings: Finding[] };
  expect(result.bytes).toBe(SIZE);
  return result;
}

describe('verify: a legacy signature over an archive past 2 GiB', () => {
  it('verifies minisign -l’s signature of the file, streamed (the only findings are about the zip)', async () => {
    if (!sparse) return;
    const r = await verify();
    expect(r.keyId).toBe(key.keyId);
    expect(r.findings.filter((f) => f.code.startsWith('SIGNATURE_'))).toEqual([]);
    expect(r.findings.map((f) => f.code)).toContain('ZIP_CORRUPT');
  }, 300_000);

  it('refuses a legacy signature of another file as SIGNATURE_INVALID, not exit 70', async () => {
    if (!sparse) return;
    const r = await verify('--sig', join(tmp.dir, 'other.minisig'));
    expect(r.keyId).toBeUndefined();
    const invalid = r.findings.filter((f) => f.code === 'SIGNATURE_INVALID');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.message).toMatch(/other\.minisig \(the archive's signature\) does not verify/);
  }, 300_000);
});
