/**
 * `packops keys generate`: a new Ed25519 key pair in minisign's files. The secret key is
 * written at mode 0600, encrypted unless asked otherwise; both files land or neither does.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFilesAtomic } from '../shared/atomic.js';
import { conflictError, inputError } from '../shared/errors.js';
import { formatPublicKeyFile, formatSecretKeyFile, generateSecretKey, publicKeyString } from './minisign.js';

export const PUBLIC_KEY_FILE = 'packops.pub';
export const SECRET_KEY_FILE = 'packops.key';

export interface GenerateOptions {
  outDir: string;
  /** Encrypt the secret key with a password (default true). */
  encrypt: boolean;
  force: boolean;
  /** Where the password comes from (environment or prompt); required when encrypting. */
  password?: () => Promise<string>;
}

export interface GenerateResult {
  keyId: string;
  /** The public key as base64 (what `minisign -P` and `verify --pubkey` take). */
  publicKey: string;
  publicKeyPath: string;
  secretKeyPath: string;
  encrypted: boolean;
}

export async function generateKeys(options: GenerateOptions): Promise<GenerateResult> {
  const publicKeyPath = join(options.outDir, PUBLIC_KEY_FILE);
  const secretKeyPath = join(options.outDir, SECRET_KEY_FILE);
  if (!options.force) {
    for (const path of [publicKeyPath, secretKeyPath]) {
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      if (exists) {
        throw conflictError('KEY_EXISTS', `${path} already exists; no key was written.`, {
          hint: 'Use --force to replace the key pair (archives signed with the old key will need the old public key to verify).',
          details: { path },
        });
      }
    }
  }
  let password: string | undefined;
  if (options.encrypt) {
    if (!options.password) {
      throw inputError('KEY_PASSWORD_REQUIRED', 'No password to encrypt the secret key with.', {
        hint: 'Set PACKOPS_KEY_PASSWORD, run in a terminal to be asked, or pass --unencrypted (for CI keys kept in a secret store).',
      });
    }
    password = await options.password();
    if (password === '') throw inputError('KEY_PASSWORD_REQUIRED', 'The password is empty; use --unencrypted for a key without one.');
  }
  const key = generateSecretKey();
  const secretText = await formatSecretKeyFile(key, password);
  await writeFilesAtomic([
    { path: secretKeyPath, data: secretText, mode: 0o600 },
    { path: publicKeyPath, data: formatPublicKeyFile(key), mode: 0o644 },
  ]);
  return { keyId: key.keyId, publicKey: publicKeyString(key), publicKeyPath, secretKeyPath, encrypted: options.encrypt };
}
