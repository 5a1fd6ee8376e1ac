/**
 * Verifying a legacy (not prehashed, "Ed") minisign signature without holding the message.
 *
 * Node's Ed25519 (OpenSSL) verifies a message given whole, in one buffer: a legacy signature
 * over a file larger than one read (2 GiB) or one Buffer could not be checked that way, and
 * holding a 600 MiB archive in memory for it is waste. Ed25519 verification (RFC 8032 §5.1.7)
 * needs the message only through k = SHA-512(R ‖ A ‖ M) mod L, which streams; the rest is
 * curve arithmetic on 32-byte values, done here with @noble/curves' ed25519 points.
 *
 * The check is as strict as libsodium's crypto_sign_verify_detached, which minisign uses:
 * S < L, A and R canonical encodings of points that are not of small order, and the
 * cofactorless equation compared by encoding, [S]B − [k]A == R. Loaded only when a legacy
 * signature is met (verify imports it on demand), so other commands never load the curve.
 */
import { createHash, type Hash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { checkTrustedComment, type PublicKey, type Signature, type SignatureCheck } from './minisign.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

/** Fed the signed content in chunks (in order, each consumed at once), then asked for the result. */
export interface StreamingCheck {
  update(chunk: Uint8Array): void;
  finish(): SignatureCheck;
}

function littleEndian(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
}

/** A check of a legacy signature against the trusted keys, fed the message in chunks. */
export function legacyVerifier(sig: Signature, keys: readonly PublicKey[]): StreamingCheck {
  if (sig.prehashed) throw new RangeError('a prehashed signature is checked against its BLAKE2b-512 digest');
  const key = keys.find((k) => k.keynum.equals(sig.keynum));
  if (!key) return { update: () => {}, finish: () => ({ ok: false, reason: 'untrusted-key', keyId: sig.keyId }) };
  const r = sig.signature.subarray(0, 32);
  const h: Hash = createHash('sha512').update(r).update(key.publicKey);
  return {
    update: (chunk) => void h.update(chunk),
    finish: () => {
      const k = littleEndian(h.digest()) % L;
      return equationHolds(r, littleEndian(sig.signature.subarray(32, 64)), key.publicKey, k)
        ? checkTrustedComment(sig, key)
        : { ok: false, reason: 'invalid', keyId: sig.keyId };
    },
  };
}

/** [s]B − [k]A encodes to exactly `r`, with s, A and R as strict as libsodium wants them. */
function equationHolds(r: Uint8Array, s: bigint, publicKey: Uint8Array, k: bigint): boolean {
  if (s >= L) return false;
  let A: InstanceType<typeof Point>;
  let R: InstanceType<typeof Point>;
  try {
    A = Point.fromBytes(publicKey, false);
    R = Point.fromBytes(r, false);
  } catch {
    return false;
  }
  if (A.isSmallOrder() || R.isSmallOrder()) return false;
  const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return Buffer.from(check.toBytes()).equals(Buffer.from(r));
}
