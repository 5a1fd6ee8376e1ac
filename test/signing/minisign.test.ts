// The minisign formats on Node's crypto: parsing, signing, verifying, key encryption.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  formatPublicKeyFile,
  formatSecretKeyFile,
  generateSecretKey,
  openSecretKey,
  parsePublicKeyFile,
  parsePublicKeyString,
  parseSecretKeyFile,
  parseSignature,
  prehash,
  publicKeyString,
  scryptParams,
  signMessage,
  SignatureFormatError,
  verifySignature,
} from '../../src/signing/minisign.js';
import { PackopsError } from '../../src/shared/errors.js';

const key = generateSecretKey();
const INTERACTIVE = { opslimit: 524288n, memlimit: 16777216n };
const pub = key.toPublicKey();
const data = Buffer.from('hello, packs\n');

describe('libsodium scrypt parameters', () => {
  it("maps minisign's opslimit/memlimit (sensitive) to N=2^20, r=8, p=1", () => {
    expect(scryptParams(33554432n, 1073741824n)).toEqual({ N: 2 ** 20, r: 8, p: 1 });
  });
  it('maps the interactive limits to N=2^14, r=8, p=1 and follows opslimit when memory is plentiful', () => {
    expect(scryptParams(524288n, 16777216n)).toEqual({ N: 2 ** 14, r: 8, p: 1 });
    // opslimit < memlimit/32: N from opslimit, p = 1.
    expect(scryptParams(1048576n, 1073741824n)).toEqual({ N: 2 ** 15, r: 8, p: 1 });
  });
});

describe('public keys', () => {
  it('writes and reads the minisign public key file, with the key id minisign prints', () => {
    const text = formatPublicKeyFile(pub);
    expect(text).toMatch(/^untrusted comment: minisign public key [0-9A-F]{16}\n[A-Za-z0-9+/]{56}\n$/);
    expect(text).toContain(key.keyId);
    const back = parsePublicKeyFile(text, 'k.pub');
    expect(back.keyId).toBe(key.keyId);
    expect(back.publicKey.equals(key.publicKey)).toBe(true);
    expect(parsePublicKeyString(publicKeyString(pub)).keyId).toBe(key.keyId);
  });

  it('reads the first line as minisign -V does: skipped whatever it says (a BOM, an edited comment), the key line strict', () => {
    const key = generateSecretKey();
    const line = publicKeyString(key.toPublicKey());
    for (const text of [`\ufeffuntrusted comment: minisign public key\n${line}\n`, `my team key\r\n${line}`, `\n${line}\n`]) {
      expect(parsePublicKeyFile(text, 'k.pub').keyId, JSON.stringify(text)).toBe(key.keyId);
    }
    // minisign refuses these too: the key alone (read as the comment), a blank key line.
    for (const text of [`${line}\n`, `# comment\n\n${line}\n`]) {
      expect(() => parsePublicKeyFile(text, 'k.pub'), JSON.stringify(text)).toThrow(PackopsError);
    }
  });

  it('refuses files that are not public keys with KEY_INVALID (exit 3)', () => {
    for (const text of ['', 'hello\n', `${'A'.repeat(56)}\n`, 'untrusted comment: x\nnot base64!\n', `untrusted comment: x\n${Buffer.alloc(42).toString('base64')}\n`]) {
      let err: unknown;
      try {
        parsePublicKeyFile(text, 'bad.pub');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PackopsError);
      expect((err as PackopsError).code).toBe('KEY_INVALID');
      expect((err as PackopsError).exitCode).toBe(3);
    }
  });
});

describe('signatures', () => {
  it('signs prehashed by default, with the trusted comment covered by the global signature', () => {
    const text = signMessage(key, prehash(data), { trustedComment: 'slug=a version=1.0.0' });
    const sig = parseSignature(text);
    expect(sig.prehashed).toBe(true);
    expect(text.split('\n')[2]).toBe('trusted comment: slug=a version=1.0.0');
    expect(verifySignature(sig, [pub], { data })).toMatchObject({ ok: true, trustedComment: 'slug=a version=1.0.0' });
    expect(verifySignature(sig, [pub], { data: Buffer.from('other') })).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('is deterministic: same key, data and comment give the same file', () => {
    const a = signMessage(key, prehash(data), { trustedComment: 't' });
    expect(signMessage(key, prehash(data), { trustedComment: 't' })).toBe(a);
  });

  it('verifies legacy (non-prehashed) signatures', () => {
    const sig = parseSignature(signMessage(key, data, { trustedComment: 'old', legacy: true }));
    expect(sig.prehashed).toBe(false);
    expect(verifySignature(sig, [pub], { data }).ok).toBe(true);
  });

  it('detects an edited trusted comment and an untrusted key', () => {
    const text = signMessage(key, prehash(data), { trustedComment: 'slug=a version=1.0.0' });
    const edited = parseSignature(text.replace('version=1.0.0', 'version=2.0.0'));
    expect(verifySignature(edited, [pub], { data })).toMatchObject({ ok: false, reason: 'comment-invalid' });
    const stranger = generateSecretKey().toPublicKey();
    expect(verifySignature(parseSignature(text), [stranger], { data })).toMatchObject({ ok: false, reason: 'untrusted-key', keyId: key.keyId });
  });

  it('refuses malformed signature files', () => {
    expect(() => parseSignature('untrusted comment: x\nAAAA\n')).toThrow(SignatureFormatError);
    const good = signMessage(key, prehash(data), { trustedComment: 't' }).split('\n');
    expect(() => parseSignature([good[0], good[1], 'not a trusted comment', good[3]].join('\n'))).toThrow(SignatureFormatError);
  });
});

describe('secret keys', () => {
  it('round-trips an unencrypted key and never shows the secret', async () => {
    const text = await formatSecretKeyFile(key);
    const opened = await openSecretKey(parseSecretKeyFile(text, 'k.key'));
    expect(opened.keyId).toBe(key.keyId);
    expect(opened.rawSecret().equals(key.rawSecret())).toBe(true);
    const secretB64 = key.rawSecret().subarray(0, 32).toString('base64').slice(0, 20);
    for (const shown of [inspect(opened), JSON.stringify(opened), String(opened), JSON.stringify({ k: opened })]) {
      expect(shown).toContain(key.keyId);
      expect(shown).not.toContain(secretB64);
      expect(shown).not.toContain(key.rawSecret().toString('hex').slice(0, 20));
    }
  });

  it('refuses a damaged secret key (checksum) with KEY_INVALID', async () => {
    const text = await formatSecretKeyFile(key);
    const [comment, b64] = text.split('\n');
    const bytes = Buffer.from(b64!, 'base64');
    bytes[70]! ^= 0xff; // inside the secret key
    await expect(openSecretKey(parseSecretKeyFile(`${comment}\n${bytes.toString('base64')}\n`, 'k.key'))).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });

  it('encrypts with scrypt and decrypts with the right password only', async () => {
    // The interactive limits keep the test fast; the file records them, as minisign's do.
    const text = await formatSecretKeyFile(key, 'correct horse', INTERACTIVE);
    const file = parseSecretKeyFile(text, 'enc.key');
    expect(file.encrypted).toBe(true);
    expect(text).not.toContain(key.rawSecret().toString('base64').slice(0, 16));
    await expect(openSecretKey(file)).rejects.toMatchObject({ code: 'KEY_PASSWORD_REQUIRED' });
    await expect(openSecretKey(file, async () => 'wrong horse')).rejects.toMatchObject({ code: 'KEY_PASSWORD_WRONG', exitCode: 3 });
    const opened = await openSecretKey(file, async () => 'correct horse');
    expect(opened.keyId).toBe(key.keyId);
  }, 60_000);
});
