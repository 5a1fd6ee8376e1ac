/**
 * Lines and records of text inputs, with one cap (PRODUCT.md §3: every read has a size cap
 * before it reads). A file's size cap (src/shared/input.ts) bounds the whole file; this
 * bounds what a reader holds at once: one JSON Lines line or one CSV record. A longer one is
 * refused with INPUT_TOO_LARGE naming its line, as soon as the cap is passed, so a 1 GiB line
 * costs a bounded read and bounded memory, never the whole line. Every record reader uses
 * this cap: JSON Lines through `splitLines`, CSV through csv-parse's `max_record_size` and
 * `csvRecordError` (the import readers and the store reports alike).
 */
import { StringDecoder } from 'node:string_decoder';
import { inputError, type PackopsError } from './errors.js';

/** Longest line or record read from a text input, in characters (UTF-16 code units). */
export const MAX_RECORD_CHARS = 1 << 20;

/**
 * The error for a line or record past the cap: INPUT_TOO_LARGE (exit 3) naming the file and
 * the line (for a record read by csv-parse, the line reading had reached when it passed the cap).
 */
export function recordTooLarge(label: string, line: number, maxChars: number = MAX_RECORD_CHARS, what: 'line' | 'record' = 'line'): PackopsError {
  const which = what === 'line' ? `line ${line} is` : `the record that runs on to line ${line} is`;
  return inputError(
    'INPUT_TOO_LARGE',
    `${label}: ${which} longer than ${maxChars} characters; a line or record may be at most that long. Nothing was imported.`,
    {
      hint: 'Check that the file is the export it should be (a binary or damaged file has no line breaks).',
      details: { file: label, line, maxChars },
    },
  );
}

/**
 * csv-parse's own error for a record past `max_record_size` (CSV_MAX_RECORD_SIZE) as
 * `recordTooLarge`; undefined for every other error. `lineOffset` is added to csv-parse's
 * line number when it took over part-way through the file.
 */
export function csvRecordError(err: unknown, label: string, maxChars: number = MAX_RECORD_CHARS, lineOffset = 0): PackopsError | undefined {
  if ((err as { code?: unknown } | null)?.code !== 'CSV_MAX_RECORD_SIZE') return undefined;
  const lines = (err as { lines?: unknown }).lines;
  // csv-parse knows the line it had reached, not the one the record began on (a quoted cell spans lines).
  return recordTooLarge(label, (typeof lines === 'number' ? lines : 0) + lineOffset, maxChars, 'record');
}

/** UTF-8 text of a byte stream (a sequence split across chunks is decoded whole; bad bytes become U+FFFD). */
export async function* utf8Text(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks) {
    const text = decoder.write(chunk);
    if (text) yield text;
  }
  const tail = decoder.end();
  if (tail) yield tail;
}

/** Line breaks as readline counts them: CRLF, LF, or a lone CR. */
const BREAK = /\r\n|\n|\r/g;

export interface SplitOptions {
  /** What messages call the input (a file name). */
  label: string;
  /** Longest line accepted (default MAX_RECORD_CHARS). */
  maxChars?: number;
}

/**
 * The lines of `text`, in batches (one per piece of text read, so there is no promise per
 * line), without their line breaks. Line n of the file is the n-th line yielded (blank
 * lines included). A line longer than the cap is refused the moment the text held for it
 * passes the cap: memory stays at the cap plus one piece.
 */
export async function* splitLines(text: AsyncIterable<string>, options: SplitOptions): AsyncGenerator<string[]> {
  const max = options.maxChars ?? MAX_RECORD_CHARS;
  let pending = '';
  let done = 0;
  for await (const piece of text) {
    const s = pending.length > 0 ? pending + piece : piece;
    const lines: string[] = [];
    let start = 0;
    BREAK.lastIndex = 0;
    for (let m = BREAK.exec(s); m !== null; m = BREAK.exec(s)) {
      // A CR at the very end may be the first half of a CRLF split across pieces.
      if (m.index === s.length - 1 && m[0] === '\r') break;
      if (m.index - start > max) throw recordTooLarge(options.label, done + 1, max);
      lines.push(s.slice(start, m.index));
      done++;
      start = BREAK.lastIndex;
    }
    pending = start === 0 ? s : s.slice(start);
    // The unfinished line (without a CR held back for a CRLF) is already past the cap.
    if (pending.length - (pending.endsWith('\r') ? 1 : 0) > max) throw recordTooLarge(options.label, done + 1, max);
    if (lines.length > 0) yield lines;
  }
  if (pending.length > 0) {
    // A CR held back at the end is a line break after all.
    yield [pending.endsWith('\r') ? pending.slice(0, -1) : pending];
  }
}
