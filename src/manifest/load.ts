/**
 * Reading a pack manifest: find `pack.json`, enforce the limits (1 MiB, strict UTF-8, no
 * BOM, nesting depth 64) and parse it. Problems with the file itself are findings of the
 * pack (MANIFEST_UNREADABLE); only a target path that does not exist is an input error.
 *
 * The file is read through src/shared/input.ts (a regular file, at most 1 MiB, checked
 * before it is read). The fast path is one read and one `JSON.parse`; positions are only
 * computed, by `./position.ts`, when there is something to report.
 *
 * A pack is untrusted (PRODUCT.md §5): a `pack.json` that is a symbolic link is not followed
 * blindly. The read refuses links (O_NOFOLLOW, free on the fast path); only then are the
 * link and the pack folder resolved, and a link whose target leaves the pack folder is a
 * PATH_UNSAFE finding, its target never opened. A link inside the pack is read at its real path.
 */
import { isUtf8 } from 'node:buffer';
import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { errnoCode, inputError, isPackopsError } from '../shared/errors.js';
import { readInputSync, type ReadBuffer } from '../shared/input.js';
import type { Finding } from '../shared/findings.js';
import { displayPath, isInside } from '../shared/paths.js';
import type { PackManifest } from './types.js';

/** A manifest larger than this is refused unread (PRODUCT.md §4). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Objects and arrays nested deeper than this are refused before parsing. */
export const MAX_MANIFEST_DEPTH = 64;
export const MANIFEST_FILE = 'pack.json';

export type LoadedManifest =
  | {
      ok: true;
      /**
       * The parsed document. It has not been checked yet: pass it to `checkManifestValue`
       * (or use `validatePack`) before trusting its shape.
       */
      manifest: PackManifest;
      packDir: string;
      manifestPath: string;
      text: string;
    }
  | {
      ok: false;
      packDir: string;
      manifestPath: string;
      findings: Finding[];
      /** The text that was read and refused (bad JSON, too deep), for code frames; absent when nothing was read. */
      text?: string;
    };

export interface LoadOptions {
  /** Base for relative targets and for the `file` of findings (default: process.cwd()). */
  cwd?: string;
}

/**
 * Loads `pack.json` from a pack folder, or the manifest file `target` names.
 * Throws `PATH_NOT_FOUND` (exit 3) when `target` does not exist.
 */
export async function loadPackManifest(target: string, options: LoadOptions = {}): Promise<LoadedManifest> {
  const cwd = options.cwd ?? process.cwd();
  const abs = resolve(cwd, target);
  // Only stat'ed, never opened: a folder names its pack.json; anything else is the manifest
  // itself, read through the shared input checks below (a FIFO or device is never opened).
  let stats: Stats;
  try {
    stats = statSync(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw inputError('PATH_NOT_FOUND', `${target} does not exist.`, {
        hint: 'Give a pack folder or the path of its pack.json.',
        details: { path: target },
      });
    }
    throw inputError('PATH_UNREADABLE', `Cannot read ${target}: ${(err as Error).message}`, { details: { path: target } });
  }
  const isDir = stats.isDirectory();
  const manifestPath = isDir ? join(abs, MANIFEST_FILE) : abs;
  const packDir = isDir ? abs : dirname(abs);
  // `manifestPath` as findings show it: worked out only when there is a finding to show.
  let shown: string | undefined;
  const file = (): string => (shown ??= displayPath(manifestPath, cwd));
  const fail = (message: string, hint?: string, at?: { line: number; column: number }, read?: string, code = 'MANIFEST_UNREADABLE'): LoadedManifest => ({
    ok: false,
    packDir,
    manifestPath,
    ...(read !== undefined ? { text: read } : {}),
    findings: [
      {
        code,
        severity: 'error',
        file: file(),
        ...(at ? { line: at.line, column: at.column } : {}),
        message,
        ...(hint ? { hint } : {}),
      },
    ],
  });

  // Synchronous: a manifest is at most 1 MiB, and for many small files sync reads cost a
  // fraction of promise-based ones (no thread-pool round trips).
  let bytes: Buffer;
  const inputOptions = { what: 'manifest', maxBytes: MAX_MANIFEST_BYTES, cwd, noFollow: true, codes: { unreadable: 'MANIFEST_UNREADABLE' } };
  try {
    try {
      // A file target was stat'ed just above: that stat is the input check's first one
      // (it followed a link, but the open does not: a link still fails as one).
      bytes = readInputSync(manifestPath, inputOptions, isDir ? { reuse: readBuffer } : { reuse: readBuffer, stats });
    } catch (err) {
      if (!isPackopsError(err) || err.code !== 'PATH_UNSAFE') throw err;
      // pack.json is a link: read it only if it leads to a file inside the pack folder.
      const real = linkTarget(manifestPath, packDir);
      if (real === 'dangling') return fail(`${file()} is a symbolic link to a file that does not exist.`);
      if (real === 'outside') {
        return fail(
          `${file()} is a symbolic link that leads outside the pack folder; it was not read.`,
          'A pack is checked as its creator sent it: put the manifest itself in the pack folder, not a link to a file elsewhere.',
          undefined,
          undefined,
          'PATH_UNSAFE',
        );
      }
      bytes = readInputSync(real, inputOptions, { reuse: readBuffer });
    }
  } catch (err) {
    if (!isPackopsError(err)) return fail(`Cannot read ${file()}: ${(err as Error).message}`);
    // Problems with the file itself are findings of the pack, not input errors.
    if (err.code === 'PATH_NOT_FOUND') {
      return fail(
        isDir ? `The folder ${displayPath(packDir, cwd)} has no ${MANIFEST_FILE}.` : `${file()} does not exist.`,
        isDir ? 'Run `packops init` in the folder to create one.' : undefined,
      );
    }
    if (err.code === 'INPUT_TOO_LARGE') {
      return fail(
        `${file()} is ${statSize(manifestPath)} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes (1 MiB).`,
        'Keep long texts in locales/ and art in assets/; the manifest only names them.',
        { line: 1, column: 1 },
      );
    }
    if (err.code === 'INPUT_NOT_REGULAR') return fail(`${file()} is not a file.`, err.message);
    return fail(err.message);
  }
  // The size can change between stat and read; the limit holds on what was read.
  if (bytes.length > MAX_MANIFEST_BYTES) {
    return fail(`${file()} is larger than ${MAX_MANIFEST_BYTES} bytes (1 MiB).`, undefined, { line: 1, column: 1 });
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return fail(
      `${file()} starts with a UTF-8 byte-order mark (BOM); a manifest must be plain UTF-8 JSON without one.`,
      'Save the file as "UTF-8" rather than "UTF-8 with BOM".',
      { line: 1, column: 1 },
    );
  }
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    // The line and column of the bad byte. Columns count UTF-16 code units, like every other
    // finding (and SARIF's columnKind utf16CodeUnits): the bytes of the line before the bad
    // one are valid UTF-8, so decoding them gives the units before it (é is 2 bytes, 1 unit).
    const lineStart = offset === 0 ? 0 : bytes.lastIndexOf(0x0a, offset - 1) + 1;
    let line = 1;
    for (let i = bytes.indexOf(0x0a); i !== -1 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
    const column = bytes.toString('utf8', lineStart, offset).length + 1;
    return fail(
      `${file()} is not valid UTF-8 (first bad byte at offset ${offset}); a manifest must be strict UTF-8.`,
      'Re-save the file with UTF-8 encoding.',
      { line, column },
      // For the code frame: the bad byte shows as U+FFFD at that same column.
      bytes.toString('utf8'),
    );
  }
  const text = bytes.toString('utf8');
  const tooDeep = depthExceeded(text, MAX_MANIFEST_DEPTH);
  if (tooDeep !== undefined) {
    const { lineColumn } = await import('./position.js');
    return fail(`${file()} nests objects or arrays deeper than ${MAX_MANIFEST_DEPTH} levels.`, undefined, lineColumn(text, tooDeep), text);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    const { describeSyntaxError } = await import('./position.js');
    const syntax = await describeSyntaxError(text);
    return fail(`${file()} is not valid JSON: ${syntax.message}.`, syntax.hint, syntax.at, text);
  }
  return { ok: true, manifest: manifest as PackManifest, packDir, manifestPath, text };
}

/**
 * One read buffer for every manifest this thread loads: manifests are read synchronously
 * and decoded to a string before anything else runs, so it is never used by two at once,
 * and checking many packs allocates (and collects) nothing per file for the bytes.
 */
const readBuffer: ReadBuffer = {};

/**
 * The real path of a `pack.json` link when it leads inside the pack folder (both resolved),
 * or why not. Only links get here: a plain pack.json costs no realpath.
 */
function linkTarget(manifestPath: string, packDir: string): string | 'outside' | 'dangling' {
  let real: string;
  try {
    real = realpathSync(manifestPath);
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'dangling' : 'outside'; // ELOOP: a loop of links leads nowhere inside
  }
  const root = realpathSync(packDir);
  return real !== root && isInside(real, root) ? real : 'outside';
}

/** The size of `path` for a message ('?' if it cannot be had). */
function statSize(path: string): number | string {
  try {
    return statSync(path).size;
  } catch {
    return '?';
  }
}

/**
 * Offset of the first container that opens deeper than `max`, or undefined. Scans the
 * text (strings skipped) so that hostile nesting never reaches a recursive parser.
 */
export function depthExceeded(text: string, max: number): number | undefined {
  // Fewer than `max` opening brackets anywhere cannot nest deeper than `max`: a native
  // search settles the common case without walking the text character by character.
  let openers = 0;
  for (const ch of ['{', '[']) {
    for (let i = text.indexOf(ch); i !== -1 && openers <= max; i = text.indexOf(ch, i + 1)) openers++;
  }
  if (openers <= max) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      depth++;
      if (depth > max) return i;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) depth--;
  }
  return undefined;
}

/** Byte offset of the first byte that breaks UTF-8 (a slow path, only after a failure). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  // The longest prefix that decodes in streaming mode (an unfinished sequence at the end
  // of a prefix is allowed there); the byte after it is the first bad one.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // The prefix may end inside a sequence the next byte cut short (C3 then "("): the damage
  // starts at that sequence's lead byte, at most 3 bytes back.
  let start = lo;
  while (start > 0 && lo - start < 3 && !isUtf8(bytes.subarray(0, start))) start--;
  return start;
}
