// Interoperability with the real minisign binary (Debian `minisign`, installed by .ci/run):
// it verifies our signatures and reads our keys; we verify its signatures and read its keys.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyFile, formatSecretKeyFile, generateSecretKey, parseSignature, prehash, signMessage, verifySignature } from '../../src/signing/minisign.js';
import { loadSecretKey, loadTrustedKeys } from '../../src/signing/keys.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { signedArchive } from '../archive/craft.js';

function minisign(args: string[], cwd: string, input = '') {
  const r = spawnSync('minisign', args, { cwd, input, encoding: 'utf8' });
  if (r.error) throw new Error(`minisign is not installed (apt-get install minisign): ${r.error.message}`);
  return r;
}

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('packops-minisign-'));
  writeFileSync(join(dir, 'message.bin'), Buffer.from('a pack archive stands in here\n'));
});
afterAll(() => cleanup());

describe('minisign verifies what packops signs', () => {
  it('accepts a prehashed signature and reports our trusted comment', async () => {
    const key = generateSecretKey();
    writeFileSync(join(dir, 'ours.pub'), formatPublicKeyFile(key));
    const msg = readFileSync(join(dir, 'message.bin'));
    writeFileSync(join(dir, 'message.bin.minisig'), signMessage(key, prehash(msg), { trustedComment: 'slug=ocean-creatures version=1.0.0' }));
    const r = minisign(['-Vm', 'message.bin', '-p', 'ours.pub', '-Q'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('slug=ocean-creatures version=1.0.0');
    // …and rejects it once the message changes.
    writeFileSync(join(dir, 'changed.bin'), Buffer.concat([msg, Buffer.from('!')]));
    expect(minisign(['-Vm', 'changed.bin', '-x', 'message.bin.minisig', '-p', 'ours.pub'], dir).status).not.toBe(0);
  });

  it('signs with secret keys packops wrote, unencrypted and encrypted', async () => {
    const key = generateSecretKey();
    writeFileSync(join(dir, 'pk.pub'), formatPublicKeyFile(key));
    writeFileSync(join(dir, 'plain.key'), await formatSecretKeyFile(key), { mode: 0o600 });
    let r = minisign(['-Sm', 'message.bin', '-s', 'plain.key', '-x', 'm1.minisig', '-t', 'by packops key'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(minisign(['-Vm', 'message.bin', '-x', 'm1.minisig', '-p', 'pk.pub'], dir).status).toBe(0);

    // Encrypted with the interactive limits (fast); minisign reads the limits from the file.
    writeFileSync(join(dir, 'enc.key'), await formatSecretKeyFile(key, 'interop pw', { opslimit: 524288n, memlimit: 16777216n }), { mode: 0o600 });
    r = minisign(['-Sm', 'message.bin', '-s', 'enc.key', '-x', 'm2.minisig', '-t', 'encrypted'], dir, 'interop pw\n');
    expect(r.status, r.stderr).toBe(0);
    expect(minisign(['-Vm', 'message.bin', '-x', 'm2.minisig', '-p', 'pk.pub'], dir).status).toBe(0);
  }, 60_000);
});

describe('packops verifies what minisign signs', () => {
  it('reads an unencrypted minisign key pair (-G -W) and verifies its signatures, prehashed and legacy', async () => {
    expect(minisign(['-G', '-W', '-p', 'm.pub', '-s', 'm.key'], dir).status).toBe(0);
    const [pub] = await loadTrustedKeys({ pubkey: 'm.pub', cwd: dir });
    expect(pub!.keyId).toMatch(/^[0-9A-F]{16}$/);
    // minisign prints the key id with %PRIX64: no leading zeros (about 1 key in 16 has one).
    const comment = readFileSync(join(dir, 'm.pub'), 'utf8').split('\n')[0]!;
    expect(comment).toBe(`untrusted comment: minisign public key ${pub!.keyId.replace(/^0+(?=.)/, '')}`);

    expect(minisign(['-Sm', 'message.bin', '-s', 'm.key', '-t', 'slug=x version=1.0.0'], dir).status).toBe(0);
    const msg = readFileSync(join(dir, 'message.bin'));
    const sig = parseSignature(readFileSync(join(dir, 'message.bin.minisig'), 'utf8'));
    expect(sig.prehashed).toBe(true);
    expect(verifySignature(sig, [pub!], { data: msg })).toMatchObject({ ok: true, trustedComment: 'slug=x version=1.0.0' });

    const legacy = minisign(['-S', '-l', '-m', 'message.bin', '-s', 'm.key', '-x', 'legacy.minisig', '-t', 'legacy'], dir);
    expect(legacy.status, legacy.stderr).toBe(0);
    const old = parseSignature(readFileSync(join(dir, 'legacy.minisig'), 'utf8'));
    expect(old.prehashed).toBe(false);
    expect(verifySignature(old, [pub!], { data: msg }).ok).toBe(true);

    // The same key signs in packops; minisign accepts the result.
    const sk = await loadSecretKey({ keyPath: 'm.key', env: {}, cwd: dir });
    expect(sk.keyId).toBe(pub!.keyId);
    writeFileSync(join(dir, 'by-packops.minisig'), signMessage(sk, prehash(msg), { trustedComment: 'signed in packops' }));
    expect(minisign(['-Vm', 'message.bin', '-x', 'by-packops.minisig', '-p', 'm.pub'], dir).status).toBe(0);
  });

  it('opens an encrypted minisign key with PACKOPS_KEY_PASSWORD (or from PACKOPS_SECRET_KEY)', async () => {
    const gen = minisign(['-G', '-p', 'me.pub', '-s', 'me.key'], dir, 'minisign pw\nminisign pw\n');
    expect(gen.status, gen.stderr).toBe(0);
    const [pub] = await loadTrustedKeys({ pubkey: 'me.pub', cwd: dir });
    const text = readFileSync(join(dir, 'me.key'), 'utf8');
    const sk = await loadSecretKey({ env: { PACKOPS_SECRET_KEY: text, PACKOPS_KEY_PASSWORD: 'minisign pw' }, cwd: dir });
    expect(sk.keyId).toBe(pub!.keyId);
    await expect(loadSecretKey({ keyPath: 'me.key', env: {}, cwd: dir })).rejects.toMatchObject({ code: 'KEY_PASSWORD_REQUIRED' });
  }, 60_000);
});

describe('packops verify accepts archives both of whose signatures minisign made', () => {
  it('INTEGRITY.json.minisig by the -W key, the detached signature by the encrypted key (password on stdin)', async () => {
    const sk = await loadSecretKey({ keyPath: 'm.key', env: {}, cwd: dir });
    const zip = signedArchive(dir, sk, 'by-minisign.zip', {
      signIntegrity: (integrity, comment) => {
        writeFileSync(join(dir, 'INTEGRITY.json'), integrity);
        const r = minisign(['-Sm', 'INTEGRITY.json', '-s', 'm.key', '-t', comment], dir);
        expect(r.status, r.stderr).toBe(0);
        return readFileSync(join(dir, 'INTEGRITY.json.minisig'), 'utf8');
      },
    });
    const detached = minisign(['-Sm', 'by-minisign.zip', '-s', 'me.key', '-t', 'slug=ocean-creatures version=1.0.0'], dir, 'minisign pw\n');
    expect(detached.status, detached.stderr).toBe(0);
    mkdirSync(join(dir, 'trusted'));
    copyFileSync(join(dir, 'm.pub'), join(dir, 'trusted', 'm.pub'));
    copyFileSync(join(dir, 'me.pub'), join(dir, 'trusted', 'me.pub'));
    const r = await runCli(['verify', zip, '--trusted-keys', 'trusted', '--json'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().results[0]).toMatchObject({ ok: true, findings: [] });
    // With only the -W key trusted, the detached signature's key is reported.
    const partial = await runCli(['verify', zip, '--pubkey', 'm.pub', '--json'], { cwd: dir });
    expect(partial.code).toBe(1);
    expect(partial.json().results[0].findings.map((f: { code: string }) => f.code)).toEqual(['SIGNATURE_UNTRUSTED_KEY']);
  }, 120_000);
});
