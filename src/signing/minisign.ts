/**
 * The minisign file formats (https://jedisct1.github.io/minisign/), on Node's crypto:
 *
 * - public key:  "Ed" ‖ keynum(8) ‖ Ed25519 public key(32), base64, under
 *                "untrusted comment: minisign public key <KEYID>"
 * - secret key:  "Ed" ‖ kdf "Sc"|"\0\0" ‖ chk "B2" ‖ salt(32) ‖ opslimit(8 LE) ‖ memlimit(8 LE)
 *                ‖ [keynum(8) ‖ Ed25519 secret key seed‖pk (64) ‖ checksum(32)], the bracketed
 *                part XORed with scrypt(password) when encrypted; checksum = BLAKE2b-256 of
 *                (sig_alg ‖ keynum ‖ secret key)
 * - signature:   "ED" (BLAKE2b-512 prehash) or "Ed" (legacy, raw message) ‖ keynum ‖ sig(64),
 *                then the trusted comment and a global signature over sig ‖ trusted comment.
 *
 * The key id shown to people is keynum read as a little-endian 64-bit number, in upper-case
 * hex (as minisign prints it). Secrets never leave this module in printable form.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, scrypt, sign, verify, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { blake2b } from '@noble/hashes/blake2.js';
import { inputError } from '../shared/errors.js';
import { CHKALG, COMMENT_PREFIX, KDFALG, SIGALG } from './material.js';

const SIGALG_HASHED = 'ED';
const KEYNUM_BYTES = 8;
const PUBLIC_KEY_STRUCT_BYTES = 2 + KEYNUM_BYTES + 32;
const SECRET_KEY_STRUCT_BYTES = 2 + 2 + 2 + 32 + 8 + 8 + KEYNUM_BYTES + 64 + 32;
const SIG_STRUCT_BYTES = 2 + KEYNUM_BYTES + 64;
const TRUSTED_COMMENT_PREFIX = 'trusted comment: ';
/** minisign's limits (COMMENTMAXBYTES, TRUSTEDCOMMENTMAXBYTES). */
const COMMENT_MAX_BYTES = 1024;
const TRUSTED_COMMENT_MAX_BYTES = 8192;
/** libsodium's crypto_pwhash_scryptsalsa208sha256_{OPS,MEM}LIMIT_SENSITIVE, as minisign -G uses. */
export const KDF_OPSLIMIT_SENSITIVE = 33554432n;
export const KDF_MEMLIMIT_SENSITIVE = 1073741824n;
/** Refuse key files whose KDF parameters would need more memory than this. */
const KDF_MAX_MEMORY = 2n ** 31n;

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface PublicKey {
  /** Key id as minisign prints it: 16 upper-case hex digits. */
  keyId: string;
  keynum: Buffer;
  /** Raw Ed25519 public key (32 bytes). */
  publicKey: Buffer;
  /** Where the key came from (a file path or "inline"), for messages. */
  source: string;
}

/**
 * A decrypted secret key. Inspecting or serialising it shows only its key id, so it
 * cannot reach a log by accident.
 */
export class SecretKey {
  readonly keyId: string;
  readonly keynum: Buffer;
  readonly publicKey: Buffer;
  readonly #seed: Buffer;
  #key: KeyObject | undefined;

  constructor(keynum: Buffer, seed: Buffer, publicKey: Buffer) {
    this.keynum = Buffer.from(keynum);
    this.keyId = keyIdOf(keynum);
    this.publicKey = Buffer.from(publicKey);
    this.#seed = Buffer.from(seed);
  }

  /** The Node KeyObject (created once). */
  keyObject(): KeyObject {
    this.#key ??= createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, this.#seed]), format: 'der', type: 'pkcs8' });
    return this.#key;
  }

  /** libsodium's 64-byte secret key: seed ‖ public key. */
  rawSecret(): Buffer {
    return Buffer.concat([this.#seed, this.publicKey]);
  }

  toPublicKey(source = 'secret key'): PublicKey {
    return { keyId: this.keyId, keynum: Buffer.from(this.keynum), publicKey: Buffer.from(this.publicKey), source };
  }

  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }

  [inspect.custom](): string {
    return `SecretKey { keyId: '${this.keyId}' }`;
  }

  toString(): string {
    return `[SecretKey ${this.keyId}]`;
  }
}

export function keyIdOf(keynum: Uint8Array): string {
  return Buffer.from(keynum).reverse().toString('hex').toUpperCase();
}

function keyInvalid(source: string, reason: string): never {
  throw inputError('KEY_INVALID', `${source} is not a minisign key: ${reason}.`, {
    hint: 'Give the packops.pub / packops.key files that `packops keys generate` (or `minisign -G`) wrote.',
    details: { file: source },
  });
}

/** Strict base64 (the original alphabet, with padding), as libsodium decodes it. */
function decodeBase64(text: string, expectedBytes: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === expectedBytes ? bytes : undefined;
}

/** Splits a key or signature file into lines, accepting LF and CRLF endings. */
function fileLines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

// ---------------------------------------------------------------------------------------
// Public keys

/** Parses a public key given as base64 (the second line of a .pub file, or `minisign -P`). */
export function parsePublicKeyString(b64: string, source = 'inline public key'): PublicKey {
  const bytes = decodeBase64(b64.trim(), PUBLIC_KEY_STRUCT_BYTES);
  if (!bytes) keyInvalid(source, `expected base64 of ${PUBLIC_KEY_STRUCT_BYTES} bytes`);
  if (bytes.subarray(0, 2).toString('latin1') !== SIGALG) keyInvalid(source, 'unsupported signature algorithm');
  const keynum = Buffer.from(bytes.subarray(2, 2 + KEYNUM_BYTES));
  return { keyId: keyIdOf(keynum), keynum, publicKey: Buffer.from(bytes.subarray(2 + KEYNUM_BYTES)), source };
}

/**
 * Parses a public key file: an untrusted comment line, then the base64 key. As `minisign
 * -V` does, the first line is skipped whatever it says (a key saved with a byte-order mark
 * or an edited comment still loads); the key line itself is checked strictly.
 */
export function parsePublicKeyFile(text: string, source: string): PublicKey {
  const lines = fileLines(text);
  if (lines[1] === undefined || lines[1].trim() === '') {
    keyInvalid(source, lines[0]?.startsWith(COMMENT_PREFIX) ? 'the key line is missing' : `the first line must start with "${COMMENT_PREFIX}"`);
  }
  return parsePublicKeyString(lines[1], source);
}

export function publicKeyString(key: Pick<PublicKey, 'keynum' | 'publicKey'>): string {
  return Buffer.concat([Buffer.from(SIGALG, 'latin1'), key.keynum, key.publicKey]).toString('base64');
}

export function formatPublicKeyFile(key: Pick<PublicKey, 'keynum' | 'publicKey'>): string {
  return `${COMMENT_PREFIX}minisign public key ${keyIdOf(key.keynum)}\n${publicKeyString(key)}\n`;
}

function publicKeyObject(key: PublicKey): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key.publicKey]), format: 'der', type: 'spki' });
}

// ---------------------------------------------------------------------------------------
// Secret keys

/** A secret key file as read, before decryption. */
export interface SecretKeyFile {
  encrypted: boolean;
  /** Internal: the decoded structure; never printed. */
  readonly bytes: Buffer;
  source: string;
}

export function parseSecretKeyFile(text: string, source: string): SecretKeyFile {
  const lines = fileLines(text);
  if (!lines[0]?.startsWith(COMMENT_PREFIX)) keyInvalid(source, `the first line must start with "${COMMENT_PREFIX}"`);
  const bytes = decodeBase64((lines[1] ?? '').trim(), SECRET_KEY_STRUCT_BYTES);
  if (!bytes) keyInvalid(source, `expected base64 of a ${SECRET_KEY_STRUCT_BYTES}-byte secret key`);
  if (bytes.subarray(0, 2).toString('latin1') !== SIGALG) keyInvalid(source, 'unsupported signature algorithm');
  const kdf = bytes.subarray(2, 4);
  const encrypted = kdf.toString('latin1') === KDFALG;
  if (!encrypted && !(kdf[0] === 0 && kdf[1] === 0)) keyInvalid(source, 'unsupported key derivation function');
  if (bytes.subarray(4, 6).toString('latin1') !== CHKALG) keyInvalid(source, 'unsupported checksum function');
  const file: SecretKeyFile = { encrypted, bytes, source };
  Object.defineProperty(file, 'bytes', { enumerable: false });
  return file;
}

/** libsodium's pickparams for crypto_pwhash_scryptsalsa208sha256: opslimit/memlimit → N, r, p. */
export function scryptParams(opslimit: bigint, memlimit: bigint): { N: number; r: number; p: number } {
  const ops = opslimit < 32768n ? 32768n : opslimit;
  const r = 8n;
  let nLog2: bigint;
  let p: bigint;
  if (ops < memlimit / 32n) {
    p = 1n;
    const maxN = ops / (r * 4n);
    for (nLog2 = 1n; nLog2 < 63n; nLog2++) if (1n << nLog2 > maxN / 2n) break;
  } else {
    const maxN = memlimit / (r * 128n);
    for (nLog2 = 1n; nLog2 < 63n; nLog2++) if (1n << nLog2 > maxN / 2n) break;
    let maxrp = ops / 4n / (1n << nLog2);
    if (maxrp > 0x3fffffffn) maxrp = 0x3fffffffn;
    p = maxrp / r;
  }
  return { N: Number(1n << nLog2), r: Number(r), p: Number(p) };
}

function deriveStream(password: string, salt: Buffer, opslimit: bigint, memlimit: bigint, length: number, source: string): Promise<Buffer> {
  const { N, r, p } = scryptParams(opslimit, memlimit);
  const memory = 128n * BigInt(N) * BigInt(r) * BigInt(p);
  if (p < 1 || N > 2 ** 30 || memory > KDF_MAX_MEMORY) keyInvalid(source, 'its key derivation parameters are out of range');
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), salt, length, { N, r, p, maxmem: Number(memory) + 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function checksum(keynum: Buffer, secret64: Buffer): Buffer {
  return Buffer.from(blake2b(Buffer.concat([Buffer.from(SIGALG, 'latin1'), keynum, secret64]), { dkLen: 32 }));
}

/**
 * Decrypts (when encrypted) and checks a secret key. `password` is asked only for an
 * encrypted key. A wrong password is KEY_PASSWORD_WRONG; a damaged key KEY_INVALID.
 */
export async function openSecretKey(file: SecretKeyFile, password?: () => Promise<string>): Promise<SecretKey> {
  const bytes = Buffer.from(file.bytes);
  const inner = bytes.subarray(54);
  if (file.encrypted) {
    if (!password) throw inputError('KEY_PASSWORD_REQUIRED', `${file.source} is encrypted and no password was given.`);
    const salt = bytes.subarray(6, 38);
    const opslimit = bytes.readBigUInt64LE(38);
    const memlimit = bytes.readBigUInt64LE(46);
    const stream = await deriveStream(await password(), salt, opslimit, memlimit, inner.length, file.source);
    for (let i = 0; i < inner.length; i++) inner[i]! ^= stream[i]!;
    stream.fill(0);
  }
  const keynum = Buffer.from(inner.subarray(0, KEYNUM_BYTES));
  const secret64 = inner.subarray(KEYNUM_BYTES, KEYNUM_BYTES + 64);
  const chk = inner.subarray(KEYNUM_BYTES + 64);
  const expected = checksum(keynum, secret64);
  // minisign -G -W leaves the checksum of an unencrypted key zeroed; anything else must match.
  const zeroChk = chk.every((b) => b === 0);
  if (!expected.equals(chk) && (file.encrypted || !zeroChk)) {
    bytes.fill(0);
    if (file.encrypted) {
      throw inputError('KEY_PASSWORD_WRONG', `Wrong password for the secret key ${file.source}.`, {
        hint: 'Check PACKOPS_KEY_PASSWORD (or the password you typed).',
      });
    }
    keyInvalid(file.source, 'its checksum does not match');
  }
  const seed = Buffer.from(secret64.subarray(0, 32));
  const pk = Buffer.from(secret64.subarray(32));
  bytes.fill(0);
  const key = new SecretKey(keynum, seed, pk);
  seed.fill(0);
  // The public half stored in the key must be the one the seed derives.
  const derived = createPublicKey(key.keyObject()).export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
  if (!derived.equals(pk)) keyInvalid(file.source, 'its public half does not match its secret half');
  return key;
}

/** A new random key pair. */
export function generateSecretKey(): SecretKey {
  const seed = randomBytes(32);
  const keynum = randomBytes(KEYNUM_BYTES);
  const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pk = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
  const key = new SecretKey(keynum, seed, Buffer.from(pk));
  seed.fill(0);
  return key;
}

/**
 * The secret key file text, encrypted with scrypt as minisign -G does (opslimit/memlimit
 * "sensitive" unless `kdf` says otherwise: the limits are stored in the file, so minisign
 * reads any), or unencrypted (kdf "\0\0", as minisign -G -W) when no password is given.
 */
export async function formatSecretKeyFile(
  key: SecretKey,
  password?: string,
  kdf: { opslimit: bigint; memlimit: bigint } = { opslimit: KDF_OPSLIMIT_SENSITIVE, memlimit: KDF_MEMLIMIT_SENSITIVE },
): Promise<string> {
  const secret64 = key.rawSecret();
  const inner = Buffer.concat([key.keynum, secret64, checksum(key.keynum, secret64)]);
  secret64.fill(0);
  const header = Buffer.alloc(54);
  header.write(SIGALG, 0, 'latin1');
  header.write(CHKALG, 4, 'latin1');
  if (password !== undefined) {
    header.write(KDFALG, 2, 'latin1');
    const salt = randomBytes(32);
    salt.copy(header, 6);
    header.writeBigUInt64LE(kdf.opslimit, 38);
    header.writeBigUInt64LE(kdf.memlimit, 46);
    const stream = await deriveStream(password, salt, kdf.opslimit, kdf.memlimit, inner.length, 'new key');
    for (let i = 0; i < inner.length; i++) inner[i]! ^= stream[i]!;
    stream.fill(0);
  }
  const comment = password !== undefined ? 'minisign encrypted secret key' : 'minisign unencrypted secret key';
  const text = `${COMMENT_PREFIX}${comment}\n${Buffer.concat([header, inner]).toString('base64')}\n`;
  inner.fill(0);
  return text;
}

// ---------------------------------------------------------------------------------------
// Signatures

export interface Signature {
  /** true for "ED" (BLAKE2b-512 prehash), false for legacy "Ed". */
  prehashed: boolean;
  keynum: Buffer;
  keyId: string;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

export class SignatureFormatError extends Error {}

/** Parses a .minisig file. Throws SignatureFormatError for anything malformed. */
export function parseSignature(text: string): Signature {
  const lines = fileLines(text);
  const fail = (reason: string): never => {
    throw new SignatureFormatError(reason);
  };
  if (!lines[0]?.startsWith(COMMENT_PREFIX)) fail(`the first line must start with "${COMMENT_PREFIX}"`);
  if (Buffer.byteLength(lines[0]!) >= COMMENT_MAX_BYTES) fail('the untrusted comment is too long');
  const sig = decodeBase64((lines[1] ?? '').trim(), SIG_STRUCT_BYTES) ?? fail('the signature line is not a minisign signature');
  const alg = sig.subarray(0, 2).toString('latin1');
  if (alg !== SIGALG && alg !== SIGALG_HASHED) fail('unsupported signature algorithm');
  const tcLine = lines[2] ?? '';
  if (!tcLine.startsWith(TRUSTED_COMMENT_PREFIX)) fail(`the third line must start with "${TRUSTED_COMMENT_PREFIX}"`);
  const trustedComment = tcLine.slice(TRUSTED_COMMENT_PREFIX.length);
  if (Buffer.byteLength(tcLine) >= TRUSTED_COMMENT_MAX_BYTES) fail('the trusted comment is too long');
  const globalSignature = decodeBase64((lines[3] ?? '').trim(), 64) ?? fail('the global signature line is malformed');
  if (lines.slice(4).some((l) => l.trim() !== '')) fail('unexpected text after the signature');
  const keynum = Buffer.from(sig.subarray(2, 2 + KEYNUM_BYTES));
  return {
    prehashed: alg === SIGALG_HASHED,
    keynum,
    keyId: keyIdOf(keynum),
    signature: Buffer.from(sig.subarray(2 + KEYNUM_BYTES)),
    trustedComment,
    globalSignature,
  };
}

/** BLAKE2b-512 of a message, minisign's prehash (use createHash('blake2b512') to stream). */
export function prehash(message: Uint8Array): Buffer {
  return createHash('blake2b512').update(message).digest();
}

/**
 * Signs and returns the .minisig file text. `message` is the BLAKE2b-512 digest of the
 * data for a prehashed signature (the default), or the data itself with `legacy`.
 */
export function signMessage(
  key: SecretKey,
  message: Uint8Array,
  options: { trustedComment: string; untrustedComment?: string; legacy?: boolean },
): string {
  const { trustedComment } = options;
  const untrusted = options.untrustedComment ?? 'signature from packops secret key';
  if (/[\r\n]/.test(trustedComment) || /[\r\n]/.test(untrusted)) throw new RangeError('comments must be one line');
  if (!options.legacy && message.length !== 64) throw new RangeError('a prehashed signature signs a 64-byte BLAKE2b-512 digest');
  const priv = key.keyObject();
  const signature = sign(null, message, priv);
  const struct = Buffer.concat([Buffer.from(options.legacy ? SIGALG : SIGALG_HASHED, 'latin1'), key.keynum, signature]);
  const globalSignature = sign(null, Buffer.concat([signature, Buffer.from(trustedComment, 'utf8')]), priv);
  return `${COMMENT_PREFIX}${untrusted}\n${struct.toString('base64')}\n${TRUSTED_COMMENT_PREFIX}${trustedComment}\n${globalSignature.toString('base64')}\n`;
}

export type SignatureCheck =
  | { ok: true; key: PublicKey; trustedComment: string }
  | { ok: false; reason: 'untrusted-key' | 'invalid' | 'comment-invalid'; keyId: string };

/**
 * Verifies a parsed signature against the trusted keys. `message` gives the data: for a
 * prehashed signature its BLAKE2b-512 digest is used (pass `digest` when already computed,
 * e.g. while streaming), for a legacy one the raw bytes are needed.
 */
export function verifySignature(
  sig: Signature,
  keys: readonly PublicKey[],
  message: { digest?: Uint8Array; data?: Uint8Array },
): SignatureCheck {
  const key = keys.find((k) => k.keynum.equals(sig.keynum));
  if (!key) return { ok: false, reason: 'untrusted-key', keyId: sig.keyId };
  const pub = publicKeyObject(key);
  let signed: Uint8Array | undefined;
  if (sig.prehashed) signed = message.digest ?? (message.data ? prehash(message.data) : undefined);
  else signed = message.data;
  if (!signed) throw new RangeError(sig.prehashed ? 'a digest or the data is needed' : 'a legacy signature needs the data itself');
  if (!verify(null, signed, pub, sig.signature)) return { ok: false, reason: 'invalid', keyId: sig.keyId };
  const commentOk = verify(null, Buffer.concat([sig.signature, Buffer.from(sig.trustedComment, 'utf8')]), pub, sig.globalSignature);
  if (!commentOk) return { ok: false, reason: 'comment-invalid', keyId: sig.keyId };
  return { ok: true, key, trustedComment: sig.trustedComment };
}
