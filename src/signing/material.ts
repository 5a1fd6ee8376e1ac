/**
 * Recognising minisign key material in a value that should have been a path (PRODUCT.md §6:
 * a secret key is never printed or logged). The easy mistake is `--key "$(cat ci.key)"` (or
 * its base64 line) where `PACKOPS_SECRET_KEY="$(cat ci.key)"` was meant: the value must then
 * be refused without being echoed, and never reach an error message, `details.path` or a
 * stack trace.
 *
 * A minisign key line is the base64 of a struct that starts with the signature algorithm
 * "Ed", so its text starts with "RW". A secret key's struct goes on with the KDF ("Sc", or
 * two zero bytes when unencrypted) and the checksum algorithm "B2"; a public key's is 42
 * bytes (56 characters). This module is dependency-free: the CLI calls it on every argument
 * before any command runs.
 */

export const SIGALG = 'Ed';
export const KDFALG = 'Sc';
export const CHKALG = 'B2';
export const COMMENT_PREFIX = 'untrusted comment: ';
export const PUBLIC_KEY_LINE_CHARS = 56;

export type KeyMaterialKind = 'secret key' | 'public key' | 'key file';

export interface KeyMaterial {
  kind: KeyMaterialKind;
  /** Every secret key line found in the value (to redact from any output). */
  secrets: string[];
}

/** A run of base64 that could hold a key struct (a public key is 56 characters). */
const B64_RUN = /RW[A-Za-z0-9+/]{54,}={0,2}/g;

function isSecretKeyStruct(bytes: Buffer): boolean {
  if (bytes.length < 6 || bytes.subarray(0, 2).toString('latin1') !== SIGALG) return false;
  const kdf = bytes.subarray(2, 4);
  const kdfOk = kdf.toString('latin1') === KDFALG || (kdf[0] === 0 && kdf[1] === 0);
  return kdfOk && bytes.subarray(4, 6).toString('latin1') === CHKALG;
}

/**
 * The key material `value` holds, if any: a secret key line anywhere in it (also after a
 * prefix such as `./`), the text of a key file (an untrusted comment line, or any line
 * break: no path packops takes has one), or a public key line. Ordinary paths give
 * undefined.
 */
export function findKeyMaterial(value: string): KeyMaterial | undefined {
  const secrets: string[] = [];
  let publicLine = false;
  for (const [run] of value.matchAll(B64_RUN)) {
    for (let i = run.indexOf('RW'); i !== -1; i = run.indexOf('RW', i + 1)) {
      const candidate = run.slice(i);
      const bare = candidate.replace(/=+$/, '');
      if (bare.length < PUBLIC_KEY_LINE_CHARS) break;
      const bytes = Buffer.from(bare.slice(0, bare.length - (bare.length % 4)), 'base64');
      if (isSecretKeyStruct(bytes)) {
        secrets.push(candidate);
        break;
      }
      if (i === 0 && bare.length === PUBLIC_KEY_LINE_CHARS && bytes.subarray(0, 2).toString('latin1') === SIGALG) publicLine = true;
    }
  }
  if (secrets.length > 0) return { kind: 'secret key', secrets };
  if (value.includes(COMMENT_PREFIX.trim()) || /[\r\n]/.test(value)) return { kind: 'key file', secrets };
  if (publicLine) return { kind: 'public key', secrets };
  return undefined;
}
