/**
 * The detached signature of a pack archive, checked against one known key: what `catalog
 * publish` does before it copies a `.minisig` next to the archive it serves (the key is the
 * one that verified the signature when the pack was registered). `verify` checks the same
 * things against a set of trusted keys and reports findings instead.
 */
import { parsePublicKeyString, parseSignature, SignatureFormatError, verifySignature } from './minisign.js';

/** The trusted comment of both signatures of a pack archive. */
export function trustedCommentFor(slug: string, version: string): string {
  return `slug=${slug} version=${version}`;
}

export type PackSignatureCheck =
  | { ok: true; keyId: string }
  | { ok: false; code: 'SIGNATURE_INVALID' | 'SIGNATURE_UNTRUSTED_KEY' | 'SIGNATURE_COMMENT_MISMATCH'; reason: string };

export interface PackSignatureInput {
  /** The .minisig file's text. */
  text: string;
  /** The expected signer: a minisign public key line (base64). */
  key: string;
  slug: string;
  version: string;
  /** BLAKE2b-512 of the archive (a prehashed signature signs it). */
  digest: Uint8Array;
  /** The archive itself, for a legacy signature; without it a legacy signature is refused. */
  data?: () => Uint8Array | undefined;
}

/** Whether `text` is a minisign signature of the archive by `key` naming this pack. */
export function checkPackSignature(input: PackSignatureInput): PackSignatureCheck {
  let sig;
  try {
    sig = parseSignature(input.text);
  } catch (err) {
    if (!(err instanceof SignatureFormatError)) throw err;
    return { ok: false, code: 'SIGNATURE_INVALID', reason: `it is not a minisign signature (${err.message})` };
  }
  const key = parsePublicKeyString(input.key, 'registered signing key');
  if (sig.keyId !== key.keyId) {
    return { ok: false, code: 'SIGNATURE_UNTRUSTED_KEY', reason: `it was made by key ${sig.keyId}, but the archive was registered with a signature by key ${key.keyId}` };
  }
  let data: Uint8Array | undefined;
  if (!sig.prehashed) {
    data = input.data?.();
    if (data === undefined) return { ok: false, code: 'SIGNATURE_INVALID', reason: 'it is a legacy (not prehashed) signature over an archive too large to check' };
  }
  const check = verifySignature(sig, [key], { digest: input.digest, ...(data ? { data } : {}) });
  if (!check.ok) {
    return {
      ok: false,
      code: 'SIGNATURE_INVALID',
      reason: check.reason === 'comment-invalid' ? "its trusted comment's signature does not verify (the comment was edited)" : 'it does not verify against the archive',
    };
  }
  const expected = trustedCommentFor(input.slug, input.version);
  if (check.trustedComment !== expected) {
    const shown = check.trustedComment.length > 120 ? `${check.trustedComment.slice(0, 120)}…` : check.trustedComment;
    return { ok: false, code: 'SIGNATURE_COMMENT_MISMATCH', reason: `its trusted comment is ${JSON.stringify(shown)}, not "${expected}"` };
  }
  return { ok: true, keyId: key.keyId };
}
