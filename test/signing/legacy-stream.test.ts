// The streamed check of legacy (not prehashed) minisign signatures against Node's own
// Ed25519 (OpenSSL), which needs the whole message: same answer for valid signatures,
// changed messages, changed signatures, an edited trusted comment and unknown keys, with
// the message cut into chunks anywhere. Plus the one check the equation alone would miss:
// S + L is the same scalar, and must still be refused (S < L, as libsodium requires).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { legacyVerifier } from '../../src/signing/legacy-stream.js';
import { generateSecretKey, parseSignature, prehash, signMessage, verifySignature, type Signature } from '../../src/signing/minisign.js';

const key = generateSecretKey();
const other = generateSecretKey();
const keys = [key.toPublicKey()];

function streamed(sig: Signature, message: Buffer, cuts: number[]) {
  const check = legacyVerifier(sig, keys);
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(cut, message.length);
    if (to > at) check.update(message.subarray(at, to));
    at = Math.max(at, to);
  }
  check.update(message.subarray(at));
  return check.finish();
}

const legacySig = (message: Buffer, comment = 'slug=a version=1.0.0', by = key) => parseSignature(signMessage(by, message, { trustedComment: comment, legacy: true }));

describe('legacyVerifier', () => {
  it('agrees with Node’s one-shot Ed25519 on valid and altered signatures (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(3000), { maxLength: 6 }),
        fc.constantFrom('valid', 'message', 'R', 'S', 'comment', 'key'),
        fc.nat(),
        (bytes, cuts, change, where) => {
          let message = Buffer.from(bytes);
          const sig = legacySig(message, 'slug=a version=1.0.0', change === 'key' ? other : key);
          if (change === 'message') message = Buffer.concat([message, Buffer.from([where & 0xff])]);
          const flip = (at: number) => sig.signature.writeUInt8(sig.signature.readUInt8(at) ^ (1 << (where % 8)), at);
          if (change === 'R') flip(where % 32);
          if (change === 'S') flip(32 + (where % 32));
          if (change === 'comment') sig.trustedComment += ' edited';
          const want = verifySignature(sig, keys, { data: message });
          const got = streamed(sig, message, cuts);
          expect(got.ok).toBe(want.ok);
          if (!got.ok && !want.ok) expect(got.reason).toBe(want.reason);
          if (change === 'valid') expect(got).toMatchObject({ ok: true, trustedComment: 'slug=a version=1.0.0' });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses S + L (the same scalar, not the canonical encoding)', () => {
    const message = randomBytes(100);
    const sig = legacySig(message);
    expect(streamed(sig, message, []).ok).toBe(true);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const s = BigInt(`0x${Buffer.from(sig.signature.subarray(32)).reverse().toString('hex')}`) + L;
    Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse().copy(sig.signature, 32);
    expect(streamed(sig, message, [])).toMatchObject({ ok: false, reason: 'invalid' });
    expect(verifySignature(sig, keys, { data: message })).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('is only for legacy signatures', () => {
    const sig = parseSignature(signMessage(key, prehash(Buffer.from('x')), { trustedComment: 't' }));
    expect(() => legacyVerifier(sig, keys)).toThrow(RangeError);
  });
});
