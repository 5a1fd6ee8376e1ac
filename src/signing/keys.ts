/**
 * Loading keys from files and the environment. The CLI supplies the password source (an
 * environment variable or a prompt); this module never prompts and never prints.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errnoCode, inputError, usageError } from '../shared/errors.js';
import { readInputText } from '../shared/input.js';
import { openSecretKey, parsePublicKeyFile, parsePublicKeyString, parseSecretKeyFile, type PublicKey, type SecretKey } from './minisign.js';

export type { PublicKey, SecretKey } from './minisign.js';

/** Key files are small; anything bigger is not a key. */
const KEY_FILE_MAX_BYTES = 64 * 1024;

async function readKeyFile(path: string, what: string): Promise<string> {
  // A FIFO, device or folder is KEY_INVALID (exit 3) at once, never read or waited on.
  return readInputText(path, {
    what,
    maxBytes: KEY_FILE_MAX_BYTES,
    codes: { notRegular: 'KEY_INVALID', tooLarge: 'KEY_INVALID', unreadable: 'KEY_INVALID' },
  });
}

/** Reads one public key file. */
export async function readPublicKey(path: string): Promise<PublicKey> {
  return parsePublicKeyFile(await readKeyFile(path, 'public key'), path);
}

/**
 * The keys `verify` trusts: `--pubkey` (a .pub file, or the base64 key itself as
 * `minisign -P` takes it) and/or every `*.pub` file in `--trusted-keys` (for rotations:
 * keep the old and the new public key there).
 */
export async function loadTrustedKeys(opts: { pubkey?: string; trustedKeysDir?: string; cwd: string }): Promise<PublicKey[]> {
  const keys: PublicKey[] = [];
  if (opts.pubkey === undefined && opts.trustedKeysDir === undefined) {
    throw usageError('Give the public key to trust: --pubkey <file> or --trusted-keys <dir>.');
  }
  if (opts.pubkey !== undefined) {
    const path = resolve(opts.cwd, opts.pubkey);
    const inline = /^[A-Za-z0-9+/]{56}$/.test(opts.pubkey.trim());
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    keys.push(!exists && inline ? parsePublicKeyString(opts.pubkey, 'inline public key') : await readPublicKey(path));
  }
  if (opts.trustedKeysDir !== undefined) {
    const dir = resolve(opts.cwd, opts.trustedKeysDir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw inputError('PATH_NOT_FOUND', `The trusted keys folder ${dir} does not exist.`, { details: { path: dir } });
      throw inputError('KEY_INVALID', `Cannot read the trusted keys folder ${dir}: ${(err as Error).message}`);
    }
    const pubs = names.filter((n) => n.endsWith('.pub')).sort();
    if (pubs.length === 0) {
      throw inputError('KEY_INVALID', `The trusted keys folder ${dir} holds no .pub file.`, {
        hint: 'Put the minisign public keys to trust there, one .pub file each.',
      });
    }
    for (const name of pubs) keys.push(await readPublicKey(join(dir, name)));
  }
  return keys;
}

export interface SecretKeySource {
  /** Path of the secret key file (`--key`). */
  keyPath?: string;
  /** Environment: PACKOPS_SECRET_KEY (the key file's contents) and PACKOPS_KEY_PASSWORD. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Asks for the password when the key is encrypted and PACKOPS_KEY_PASSWORD is unset. */
  askPassword?: () => Promise<string>;
}

/**
 * Loads the signing key from `--key` or PACKOPS_SECRET_KEY (the flag wins), decrypting it
 * with PACKOPS_KEY_PASSWORD or the password callback.
 */
export async function loadSecretKey(src: SecretKeySource): Promise<SecretKey> {
  let text: string;
  let source: string;
  if (src.keyPath !== undefined) {
    source = resolve(src.cwd, src.keyPath);
    text = await readKeyFile(source, 'secret key');
  } else if (src.env.PACKOPS_SECRET_KEY !== undefined && src.env.PACKOPS_SECRET_KEY !== '') {
    source = 'PACKOPS_SECRET_KEY';
    text = src.env.PACKOPS_SECRET_KEY;
  } else {
    throw usageError('No signing key: give --key <packops.key> or set PACKOPS_SECRET_KEY to the key file contents.');
  }
  const file = parseSecretKeyFile(text, source);
  const envPassword = src.env.PACKOPS_KEY_PASSWORD;
  let password: (() => Promise<string>) | undefined;
  if (envPassword !== undefined && envPassword !== '') password = () => Promise.resolve(envPassword);
  else password = src.askPassword;
  if (file.encrypted && !password) {
    throw inputError('KEY_PASSWORD_REQUIRED', `The secret key ${source} is encrypted and no password is available.`, {
      hint: 'Set PACKOPS_KEY_PASSWORD, run in a terminal to be asked, or use an unencrypted key (keys generate --unencrypted) in CI.',
    });
  }
  return openSecretKey(file, password);
}
