/**
 * The one way packops opens a file it reads (PRODUCT.md §3: no command hangs or reads without
 * a bound). Every input path goes through `openInput`/`readInput`:
 *
 * - the path is stat'ed first (or the caller's own fresh stat of it is used) and anything
 *   but a regular file (FIFO, character or block device, socket, folder) is refused before
 *   it is opened, so opening a device never has side effects and a FIFO never blocks;
 * - it is then opened non-blocking and the descriptor fstat'ed again, so a file swapped for
 *   a FIFO between the two calls is still refused;
 * - the size cap the caller gives is enforced before a byte is read, and reads never go past
 *   the size fstat reported: a `/proc`-style file that reports 0 bytes but holds more is
 *   refused, and a file that grows while it is read is cut at the size it had.
 *
 * Errors are PackopsErrors (exit 3) with stable codes; callers may rename them (a key file
 * that is a folder is KEY_INVALID, a --db that is a FIFO is LEDGER_UNREADABLE).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { errnoCode, inputError, PackopsError } from './errors.js';
import { displayPath } from './paths.js';

/** O_NONBLOCK: a FIFO swapped in after the stat must not hang the open; O_NOCTTY: a tty never becomes ours. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
/** O_NOFOLLOW: with `noFollow`, a link swapped in after the lstat fails the open (ELOOP) instead of being followed. */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

export interface InputOptions {
  /** Largest file accepted, in bytes; a larger one is refused before it is read. */
  maxBytes: number;
  /** What the file is, for messages: "config file", "public key", "catalog". */
  what: string;
  /** Base for the path shown in messages (default: process.cwd()). */
  cwd?: string;
  /** Codes to use instead of the defaults, per kind of failure. */
  codes?: Partial<Record<InputFailure, string>>;
  /** A hint added to every error (e.g. "Check the path given to --config."). */
  hint?: string;
  /**
   * Refuse a path that is itself a symbolic link (failure `link`), without opening or
   * stat'ing what it names: for files inside an untrusted folder (a pack's pack.json), whose
   * link may lead anywhere on the machine. The caller decides whether the link's target is
   * acceptable (e.g. inside the pack) and reads that real path instead. Costs nothing: the
   * check before the open is an lstat instead of a stat, and the open adds O_NOFOLLOW.
   */
  noFollow?: boolean;
}

export type InputFailure = 'notFound' | 'notRegular' | 'tooLarge' | 'unreadable' | 'link';

/** Without a code of the caller's, a file the system refuses (EACCES, ELOOP) stays a system error: the CLI's boundary makes it IO_ERROR with its errno. */
const DEFAULT_CODES: Record<Exclude<InputFailure, 'unreadable'>, string> = {
  notFound: 'PATH_NOT_FOUND',
  notRegular: 'INPUT_NOT_REGULAR',
  tooLarge: 'INPUT_TOO_LARGE',
  link: 'PATH_UNSAFE',
};

export interface OpenedInput {
  fd: number;
  /** Size fstat reported for the open descriptor (at most `maxBytes`). */
  size: number;
  path: string;
  close(): void;
}

/** A person's name for the kind of file `info` describes ("a FIFO", "a folder"). */
export function fileKind(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function fail(kind: InputFailure, path: string, message: string, options: InputOptions, cause?: unknown): PackopsError {
  const code = options.codes?.[kind] ?? (kind === 'unreadable' ? 'IO_ERROR' : DEFAULT_CODES[kind]);
  return inputError(code, message, {
    ...(options.hint ? { hint: options.hint } : {}),
    details: { path: displayPath(path, options.cwd ?? process.cwd()) },
    ...(cause !== undefined ? { cause } : {}),
  });
}

function refuseKind(info: Stats, path: string, options: InputOptions): void {
  if (info.isFile()) return;
  const shown = displayPath(path, options.cwd ?? process.cwd());
  throw fail('notRegular', path, `The ${options.what} ${shown} is ${fileKind(info)}, not a regular file.`, options);
}

function refuseSize(size: number, path: string, options: InputOptions): void {
  if (size <= options.maxBytes) return;
  const shown = displayPath(path, options.cwd ?? process.cwd());
  throw fail('tooLarge', path, `The ${options.what} ${shown} is ${size} bytes; at most ${options.maxBytes} bytes are accepted.`, options);
}

/**
 * Opens `path` for reading after checking it is a regular file no larger than the cap.
 * The caller must `close()` it. `stats`: a stat of `path` the caller has just taken (to
 * tell a folder from a file, say); it stands for the check before the open, so the path is
 * not stat'ed twice. The descriptor is still fstat'ed: a swap after that stat is refused.
 */
export function openInput(path: string, options: InputOptions, stats?: Stats): OpenedInput {
  let before: Stats;
  if (stats !== undefined) before = stats;
  else {
    try {
      before = options.noFollow === true ? lstatSync(path) : statSync(path);
    } catch (err) {
      throw mapOpenError(err, path, options);
    }
  }
  if (options.noFollow === true && before.isSymbolicLink()) throw linkFailure(path, options);
  refuseKind(before, path, options);
  refuseSize(before.size, path, options);
  let fd: number;
  try {
    fd = openSync(path, options.noFollow === true ? OPEN_FLAGS | NO_FOLLOW : OPEN_FLAGS);
  } catch (err) {
    throw mapOpenError(err, path, options);
  }
  try {
    const info = fstatSync(fd);
    refuseKind(info, path, options);
    refuseSize(info.size, path, options);
    if (info.size === 0) {
      // A regular file that says it is empty but yields bytes is a /proc-style file whose
      // size cannot be trusted for a cap: refuse it rather than read without a bound.
      const probe = Buffer.alloc(1);
      if (readSync(fd, probe, 0, 1, 0) > 0) {
        const shown = displayPath(path, options.cwd ?? process.cwd());
        throw fail('notRegular', path, `The ${options.what} ${shown} reports 0 bytes but holds more (a /proc-style file); give a regular file.`, options);
      }
    }
    return {
      fd,
      size: info.size,
      path,
      close: () => closeSync(fd),
    };
  } catch (err) {
    closeSync(fd);
    if (err instanceof PackopsError) throw err;
    throw mapOpenError(err, path, options);
  }
}

function linkFailure(path: string, options: InputOptions, cause?: unknown): PackopsError {
  const shown = displayPath(path, options.cwd ?? process.cwd());
  return fail('link', path, `The ${options.what} ${shown} is a symbolic link; it was not followed.`, options, cause);
}

/** A system error of opening or reading `path` as the caller's PackopsError (the path shown is only worked out here, on failure). */
function mapOpenError(err: unknown, path: string, options: InputOptions): unknown {
  if (err instanceof PackopsError) return err;
  const code = errnoCode(err);
  // O_NOFOLLOW on a link (one swapped in after the check, or one the caller's own stat followed).
  if (code === 'ELOOP' && options.noFollow === true) return linkFailure(path, options, err);
  const shown = displayPath(path, options.cwd ?? process.cwd());
  if (code === 'ENOENT' || code === 'ENOTDIR') return fail('notFound', path, `The ${options.what} ${shown} does not exist.`, options, err);
  // ENXIO: a socket (or a FIFO with no writer opened for writing); ENODEV: a device node with no driver.
  if (code === 'ENXIO' || code === 'ENODEV' || code === 'EISDIR') {
    return fail('notRegular', path, `The ${options.what} ${shown} is not a regular file (${code}).`, options, err);
  }
  if (options.codes?.unreadable === undefined) return err;
  return fail('unreadable', path, `Cannot read the ${options.what} ${shown} (${code ?? (err as Error).message}).`, options, err);
}

/**
 * A buffer a caller that reads many small inputs one after another (manifests) keeps between
 * reads, so that each read allocates nothing; the bytes returned are valid until the next read.
 */
export interface ReadBuffer {
  buffer?: Buffer;
}

export interface ReadSyncExtras {
  /** The caller's buffer to read into (see ReadBuffer). */
  reuse?: ReadBuffer;
  /** A stat of `path` the caller has just taken (see openInput). */
  stats?: Stats;
}

/** Reads the whole of a checked input (at most `maxBytes`, at most the size it had when opened). */
export function readInputSync(path: string, options: InputOptions, extras: ReadSyncExtras = {}): Buffer {
  const input = openInput(path, options, extras.stats);
  const { reuse } = extras;
  try {
    let buf: Buffer;
    if (reuse === undefined) buf = Buffer.allocUnsafe(input.size);
    else {
      if (reuse.buffer === undefined || reuse.buffer.length < input.size) reuse.buffer = Buffer.allocUnsafe(Math.max(input.size, 64 * 1024));
      buf = reuse.buffer.subarray(0, input.size);
    }
    let n = 0;
    while (n < input.size) {
      const got = readSync(input.fd, buf, n, input.size - n, n);
      if (got === 0) break;
      n += got;
    }
    return n === buf.length ? buf : buf.subarray(0, n);
  } catch (err) {
    if (err instanceof PackopsError) throw err;
    throw mapOpenError(err, path, options);
  } finally {
    input.close();
  }
}

/** `readInputSync` for async callers (inputs read whole are small: a sync read costs less than a pool hop). */
export async function readInput(path: string, options: InputOptions): Promise<Buffer> {
  return readInputSync(path, options);
}

/** Reads a checked input as UTF-8 text (a leading byte-order mark is kept: callers decide). */
export async function readInputText(path: string, options: InputOptions): Promise<string> {
  return readInputSync(path, options).toString('utf8');
}

/**
 * A stream over a checked input, from byte 0 to the size it had when opened (never past:
 * a file that grows while it is read is read as it was). The stream closes the descriptor.
 */
export function inputStream(input: OpenedInput, options: { highWaterMark?: number } = {}): Readable {
  if (input.size === 0) {
    input.close();
    return Readable.from([]);
  }
  return createReadStream('', {
    fd: input.fd,
    start: 0,
    end: input.size - 1,
    autoClose: true,
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  });
}

/** Checks that `path` names a readable regular file within the cap, without keeping it open. */
export function assertInput(path: string, options: InputOptions): number {
  const input = openInput(path, options);
  const size = input.size;
  input.close();
  return size;
}
