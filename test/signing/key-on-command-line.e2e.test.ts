// A secret key's contents given where a path belongs (`--key "$(cat ci.key)"`, its base64
// line, the same on --pubkey, --trusted-keys or any other flag) is refused with KEY_INVALID
// (exit 3) and never echoed: not in the message, not in details, not under --verbose.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyFile, formatSecretKeyFile, generateSecretKey } from '../../src/signing/minisign.js';
import { findKeyMaterial } from '../../src/signing/material.js';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const PACK = join(FIXTURES, 'packs', 'ocean-creatures');

let dir: string;
let cleanup: () => void;
const keys: Record<'plain' | 'encrypted', { file: string; line: string; pub: string }> = {} as never;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('packops-key-argv-'));
  const key = generateSecretKey();
  writeFileSync(join(dir, 'packops.pub'), formatPublicKeyFile(key));
  const plain = await formatSecretKeyFile(key);
  // Fast KDF limits: the test is about the text, not the password.
  const encrypted = await formatSecretKeyFile(key, 'pw', { opslimit: 524288n, memlimit: 16777216n });
  writeFileSync(join(dir, 'packops.key'), plain, { mode: 0o600 });
  const pub = formatPublicKeyFile(key);
  keys.plain = { file: plain, line: plain.split('\n')[1]!, pub };
  keys.encrypted = { file: encrypted, line: encrypted.split('\n')[1]!, pub };
});
afterAll(() => cleanup());

/** Asserts the refusal and that no part of the key's base64 reached either stream. */
function expectRefused(r: { code: number; stdout: string; stderr: string }, line: string): void {
  expect(r.code, r.stderr).toBe(3);
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain(line);
    expect(text).not.toContain(line.slice(0, 40));
    expect(text).not.toContain(line.slice(-40));
  }
}

describe('a secret key given as an argument', () => {
  for (const form of ['plain', 'encrypted'] as const) {
    it(`is refused on --key (${form}: the whole file, its key line, after ./, as --key=), never echoed`, async () => {
      const { file, line } = keys[form];
      for (const args of [
        ['--key', file],
        ['--key', line],
        ['--key', `./${line}`],
        [`--key=${line}`],
      ]) {
        const r = await runCli(['--json', '--verbose', 'build', PACK, ...args, '--out', join(dir, 'dist')], { cwd: dir });
        expectRefused(r, line);
        const error = r.json().error;
        expect(error.code).toBe('KEY_INVALID');
        expect(error.message).toContain('--key');
        expect(error.hint).toContain('PACKOPS_SECRET_KEY');
        expect(error.details).toEqual({ flag: '--key', given: 'secret key' });
      }
      expect(existsSync(join(dir, 'dist'))).toBe(false);
    });
  }

  it('is refused on release --key and --pubkey, and on verify --pubkey and --trusted-keys, pretty and --verbose', async () => {
    const { file, line } = keys.plain;
    const runs = [
      ['release', PACK, '--key', line],
      ['release', PACK, '--key', 'packops.key', '--pubkey', line],
      ['verify', 'x.zip', '--pubkey', line],
      ['verify', 'x.zip', '--pubkey', file],
      ['verify', 'x.zip', '--trusted-keys', file],
      ['catalog', 'add', 'x.zip', '--trusted-keys', line],
    ];
    for (const args of runs) {
      const r = await runCli(['--verbose', ...args], { cwd: dir, env: { PACKOPS_DB: join(dir, 'p.db') } });
      expectRefused(r, line);
      expect(r.stderr, args.join(' ')).toMatch(/error KEY_INVALID: --(key|pubkey|trusted-keys) was given a secret key's contents/);
    }
  });

  it('is refused on any other flag too (--out, --sig): nothing is written under a name made of the key', async () => {
    const { line } = keys.plain;
    const out = await runCli(['--json', 'build', PACK, '--key', 'packops.key', '--out', line], { cwd: dir });
    expectRefused(out, line);
    expect(out.json().error).toMatchObject({ code: 'KEY_INVALID', details: { flag: '--out', given: 'secret key' } });
    expect(readdirSync(dir).filter((n) => n.startsWith('RW'))).toEqual([]);
    const sig = await runCli(['--json', 'verify', 'x.zip', '--pubkey', 'packops.pub', `--sig=${line}`], { cwd: dir });
    expectRefused(sig, line);
    expect(sig.json().error).toMatchObject({ code: 'KEY_INVALID', details: { flag: '--sig' } });
  });

  it('a key file or public key line where a path belongs is KEY_INVALID with the right hint; the inline public key still works', async () => {
    const pubLine = keys.plain.pub.split('\n')[1]!;
    const onKey = await runCli(['--json', 'build', PACK, '--key', pubLine], { cwd: dir });
    expect(onKey.code).toBe(3);
    expect(onKey.json().error).toMatchObject({ code: 'KEY_INVALID', details: { given: 'public key' } });
    const pubText = await runCli(['--json', 'verify', 'x.zip', '--pubkey', keys.plain.pub], { cwd: dir });
    expect(pubText.code).toBe(3);
    expect(pubText.json().error).toMatchObject({ code: 'KEY_INVALID', details: { flag: '--pubkey', given: 'key file' } });
    expect(pubText.json().error.hint).toContain('base64 line');
    // The minisign -P form stays accepted: the archive is what is missing here.
    const inline = await runCli(['--json', 'verify', 'x.zip', '--pubkey', pubLine], { cwd: dir });
    expect(inline.json().error.code).toBe('PATH_NOT_FOUND');
  });

  it('a missing key path that is an ordinary path is still named (the check recognises key material only)', async () => {
    const r = await runCli(['--json', 'build', PACK, '--key', 'keys/missing.key'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'PATH_NOT_FOUND', details: { path: 'keys/missing.key' } });
  });

  it('PACKOPS_SECRET_KEY (the CI recipe) still signs, and its key never reaches the output', async () => {
    const r = await runCli(['--json', '--verbose', 'build', PACK, '--out', join(dir, 'ci-dist')], {
      cwd: dir,
      env: { PACKOPS_SECRET_KEY: readFileSync(join(dir, 'packops.key'), 'utf8'), SOURCE_DATE_EPOCH: '1767225600' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(keys.plain.line.slice(0, 40));
  });
});

describe('findKeyMaterial', () => {
  it('tells secret key lines, key files and public key lines from paths', () => {
    expect(findKeyMaterial(keys.plain.line)).toEqual({ kind: 'secret key', secrets: [keys.plain.line] });
    expect(findKeyMaterial(`ci/${keys.encrypted.line}`)?.kind).toBe('secret key');
    expect(findKeyMaterial(keys.plain.pub)?.kind).toBe('key file');
    expect(findKeyMaterial(keys.plain.pub.split('\n')[1]!)?.kind).toBe('public key');
    for (const path of ['keys/packops.key', '/home/ci/RWQ.key', 'dist', `RW${'A'.repeat(60)}`, 'RW'.repeat(40)]) {
      expect(findKeyMaterial(path), path).toBeUndefined();
    }
  });
});
