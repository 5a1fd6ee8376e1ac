/**
 * Loading keys from files and the environment. The CLI supplies the password source (an
 * environment variable or a prompt); this module never prompts and never prints.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errnoCode, inputError, usageError } from '../shared/errors.js';
import { readInputText } from '../shared/input.js';
import { addSecret } from '../shared/redact.js';
import { findKeyMaterial } from './material.js';
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

/** The flags whose value is a key path (`--pubkey` also takes a public key's base64 line). */
export type KeyFlag = '--key' | '--pubkey' | '--trusted-keys';

export function isKeyFlag(flag: string): flag is KeyFlag {
  return flag === '--key' || flag === '--pubkey' || flag === '--trusted-keys';
}

const SECRET_ON_COMMAND_LINE =
  'A value on the command line is visible to other users of the machine (the process list) and stays in shell history: if the key is a real one, consider it exposed.';

/**
 * The one check on a key-path flag's value, before it touches the file system: key material
 * given where a path belongs (`--key "$(cat ci.key)"`, its base64 line, a .pub file's text)
 * is KEY_INVALID (exit 3), and the value is never echoed: not in the message, not in
 * `details`, and (registered as a secret) not in anything else printed after it.
 */
export function assertKeyPath(value: string, flag: KeyFlag): void {
  const found = findKeyMaterial(value);
  if (found === undefined) return;
  for (const secret of found.secrets) addSecret(secret);
  if (found.kind === 'public key' && flag === '--pubkey') return; // minisign -P form: taken inline
  const what = found.kind === 'secret key' ? "a secret key's contents" : found.kind === 'public key' ? 'a public key' : "a key file's contents";
  const usage =
    flag === '--key'
      ? `--key takes the path of the secret key file. To give the key itself (in CI), leave --key out and set PACKOPS_SECRET_KEY to the whole key file: PACKOPS_SECRET_KEY="$(cat ci.key)".`
      : flag === '--pubkey'
        ? '--pubkey takes the path of a .pub file, or the public key\'s base64 line (the second line of the .pub file).'
        : '--trusted-keys takes the path of a folder of .pub files.';
  throw inputError('KEY_INVALID', `${flag} was given ${what} instead of a path (the value is not shown).`, {
    hint: found.kind === 'secret key' ? `${usage} ${SECRET_ON_COMMAND_LINE}` : usage,
    details: { flag, given: found.kind },
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
  if (opts.pubkey !== undefined) assertKeyPath(opts.pubkey, '--pubkey');
  if (opts.trustedKeysDir !== undefined) assertKeyPath(opts.trustedKeysDir, '--trusted-keys');
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
    assertKeyPath(src.keyPath, '--key');
    source = resolve(src.cwd, src.keyPath);
    text = await readKeyFile(source, 'secret key');
  } else if (src.env.PACKOPS_SECRET_KEY !== undefined && src.env.PACKOPS_SECRET_KEY !== '') {
    source = 'PACKOPS_SECRET_KEY';
    text = src.env.PACKOPS_SECRET_KEY;
  } else {
    throw usageError('No signing key: give --key <packops.key> or set PACKOPS_SECRET_KEY to the key file contents.');
  }
  // Whatever prints after this point (an error quoting a driver, a path) cannot show the key.
  for (const secret of findKeyMaterial(text)?.secrets ?? []) addSecret(secret);
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
