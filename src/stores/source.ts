/**
 * Opening a store report as the stores deliver it: a plain text file, a `.gz`, or a `.zip`
 * holding one or more reports (found by their magic bytes, not their names), decoded from
 * UTF-8 (with or without BOM) or UTF-16 (with BOM) by iconv-lite, and split into records by
 * csv-parse, each with the line number a person sees in an editor. Everything streams,
 * with limits on sizes, ratios, entries and record length, so a hostile or broken file
 * fails with a code instead of filling memory.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { inputError } from '../shared/errors.js';
import { splitLine } from './csv-lines.js';
import { inputStream, openInput, type OpenedInput } from '../shared/input.js';
import { csvRecordError, MAX_RECORD_CHARS } from '../shared/lines.js';

export interface ReportLimits {
  /** Largest decompressed report (bytes). */
  maxBytes: number;
  /** Largest decompressed/compressed ratio of a .gz or zip entry. */
  maxRatio: number;
  /** Most entries a zip may declare. */
  maxEntries: number;
  /** Longest record (characters). */
  maxRecord: number;
}

/** Like verify's zip limits (ratio 100, entries 10,000), with room for a year of earnings. */
export const DEFAULT_REPORT_LIMITS: ReportLimits = {
  maxBytes: 4 * 1024 * 1024 * 1024,
  maxRatio: 100,
  maxEntries: 10_000,
  maxRecord: MAX_RECORD_CHARS,
};

export interface ReportPart {
  /** The file, or `archive.zip:entry.csv` for a zip entry: what messages name. */
  label: string;
  /** The entry's own name (or the file's). */
  name: string;
  chunks: AsyncIterable<Buffer>;
  /** What holds it: for a plain or gzip file, `chunks` reads the file's bytes in order, once. */
  container: Container;
}

export type Container = 'plain' | 'gzip' | 'zip';

/** Opens a report file through the shared input checks: a regular file, within the size cap. */
function openReport(file: string, limits: ReportLimits = DEFAULT_REPORT_LIMITS): OpenedInput {
  return openInput(file, { maxBytes: limits.maxBytes, what: 'store report' });
}

/** The file's bytes as they are read, handed to `raw` on the way (e.g. to hash them in the same pass). */
export async function* tapped(source: AsyncIterable<Buffer>, raw: ((chunk: Buffer) => void) | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    raw?.(chunk);
    yield chunk;
  }
}

/** SHA-256 (hex) of the file's bytes as stored: a renamed copy has the same. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of inputStream(openReport(file), { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function containerOf(input: OpenedInput): Container {
  const head = Buffer.alloc(4);
  const n = input.size === 0 ? 0 : readSync(input.fd, head, 0, 4, 0);
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return 'zip';
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  return 'plain';
}

export async function detectContainer(file: string): Promise<Container> {
  const input = openReport(file);
  try {
    return containerOf(input);
  } finally {
    input.close();
  }
}

function bomb(label: string, message: string): never {
  throw inputError('ZIP_BOMB', `${label}: ${message}; nothing was imported.`, {
    hint: 'A store report this large is not expected; check the file, or split it.',
    details: { file: label },
  });
}

/** Counts bytes through a stream and stops past the size or ratio limit. */
async function* capped(source: AsyncIterable<Buffer>, label: string, compressed: number, limits: ReportLimits): AsyncGenerator<Buffer> {
  let total = 0;
  // A tiny compressed file may legitimately expand more than the ratio: allow 1 MiB regardless.
  const ratioCap = Math.max(compressed * limits.maxRatio, 1 << 20);
  for await (const chunk of source) {
    total += chunk.length;
    if (total > limits.maxBytes) bomb(label, `it unpacks to more than ${limits.maxBytes} bytes`);
    if (compressed > 0 && total > ratioCap) bomb(label, `it unpacks to more than ${limits.maxRatio}× its compressed size`);
    yield chunk;
  }
}

async function* gunzip(opened: OpenedInput, label: string, size: number, limits: ReportLimits, raw?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  const input = inputStream(opened, { highWaterMark: 1 << 20 });
  const z = createGunzip();
  input.on('error', (err) => z.destroy(err));
  if (raw) input.on('data', raw);
  input.pipe(z);
  try {
    yield* capped(z as AsyncIterable<Buffer>, label, size, limits);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('Z_')) {
      throw inputError('REPORT_TRUNCATED', `${label} is not a complete gzip file (${(err as Error).message}); nothing was imported.`, {
        hint: 'Download the report again.',
        details: { file: label },
      });
    }
    throw err;
  } finally {
    input.destroy();
    z.destroy();
  }
}

/**
 * The reports in `file`: the file itself, its gunzipped content, or every entry of a zip
 * whose name `accept` takes (directories and macOS resource forks never). For a plain or
 * gzip file, `raw` sees every byte of the file in order as the part is read (so a caller
 * hashes it in the same pass); a zip is read out of order, and `raw` sees nothing.
 */
export async function* reportParts(
  file: string,
  accept: (name: string) => boolean,
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
  raw?: (chunk: Buffer) => void,
): AsyncGenerator<ReportPart> {
  const opened = openReport(file, limits);
  const kind = containerOf(opened);
  const name = basename(file);
  const size = opened.size;
  if (kind === 'plain') {
    yield { label: file, name, container: kind, chunks: tapped(inputStream(opened, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, raw) };
    return;
  }
  if (kind === 'gzip') {
    yield { label: file, name: name.replace(/\.gz$/i, ''), container: kind, chunks: gunzip(opened, file, size, limits, raw) };
    return;
  }
  const yauzl = (await import('yauzl')).default;
  let zip: import('yauzl').ZipFile;
  try {
    // The descriptor the input checks opened (yauzl closes it with the zip).
    zip = await new Promise<import('yauzl').ZipFile>((resolve, reject) =>
      yauzl.fromFd(opened.fd, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err ? reject(err) : resolve(z))),
    );
  } catch (err) {
    opened.close();
    throw inputError('ZIP_CORRUPT', `${file} is not a readable zip file: ${(err as Error).message}.`, { details: { file } });
  }
  try {
    if (zip.entryCount > limits.maxEntries) bomb(file, `it declares ${zip.entryCount} entries (limit ${limits.maxEntries})`);
    let found = 0;
    for await (const entry of zip.eachEntry()) {
      const entryName = entry.fileName;
      if (entryName.endsWith('/') || entryName.startsWith('__MACOSX/') || basename(entryName).startsWith('._')) continue;
      if (!accept(entryName)) continue;
      const label = `${file}:${entryName}`;
      if (entry.uncompressedSize > limits.maxBytes) bomb(label, `it declares ${entry.uncompressedSize} bytes`);
      let stream: Readable;
      try {
        stream = await zip.openReadStreamPromise(entry);
      } catch (err) {
        throw inputError('ZIP_CORRUPT', `${label} cannot be read: ${(err as Error).message}.`, { details: { file: label } });
      }
      found++;
      const chunks = (async function* () {
        try {
          yield* capped(stream as AsyncIterable<Buffer>, label, entry.compressedSize, limits);
        } catch (err) {
          if (err instanceof Error && !('exitCode' in err)) {
            throw inputError('ZIP_CORRUPT', `${label} cannot be read: ${err.message}.`, { details: { file: label } });
          }
          throw err;
        } finally {
          stream.destroy();
        }
      })();
      yield { label, name: basename(entryName), container: kind, chunks };
    }
    if (found === 0) {
      throw inputError('REPORT_FORMAT_UNKNOWN', `${file} is a zip without a report in it; nothing was imported.`, { details: { file } });
    }
  } finally {
    zip.close();
  }
}

/**
 * Decodes bytes to text with iconv-lite: a UTF-16 BOM (either order) selects UTF-16, a
 * UTF-8 BOM or no BOM UTF-8; the BOM is removed.
 */
export async function* decodeText(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let decoder: iconv.DecoderStream | undefined;
  let head: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    if (!decoder) {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < 3) continue;
      decoder = iconv.getDecoder(utf16Bom(head) ? 'utf16' : 'utf8');
      const text = decoder.write(head);
      if (text) yield text;
      continue;
    }
    const text = decoder.write(chunk);
    if (text) yield text;
  }
  if (!decoder) {
    if (head.length === 0) return;
    decoder = iconv.getDecoder(utf16Bom(head) ? 'utf16' : 'utf8');
    const text = decoder.write(head);
    if (text) yield text;
  }
  const tail = decoder.end();
  if (tail) yield tail;
}

function utf16Bom(b: Buffer): boolean {
  return b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff));
}

export interface TextRecord {
  /** The line the record starts on (1-based). */
  line: number;
  cells: string[];
}

/**
 * Records of delimited text, in batches: `,` with RFC 4180 quotes (Google) or tabs with no
 * quoting at all (Apple). Empty lines are skipped; the cell count is the caller's to check.
 * Lines that are one well-formed record each are split directly (csv-lines.ts); from the
 * first line that is not (a quoted line break, a stray quote or CR, a CR-only file, a line
 * past the record limit) to the end, csv-parse reads the text, so its results and errors
 * stand. Line numbers are counted here: each record is one line plus the line breaks quoted
 * in its cells.
 */
export async function* readRecords(
  text: AsyncIterable<string>,
  options: { delimiter: ',' | '\t'; quote: boolean; label: string; maxRecord?: number },
): AsyncGenerator<TextRecord[]> {
  const maxRecord = options.maxRecord ?? DEFAULT_REPORT_LIMITS.maxRecord;
  const chunks = text[Symbol.asyncIterator]();
  let line = 1;
  let batch: TextRecord[] = [];
  let pending = '';
  let eol: '\n' | '\r\n' | undefined;
  /** Text csv-parse reads from here on (undefined while lines split directly). */
  let rest: string | undefined;
  for (;;) {
    const next = await chunks.next();
    const textNow = next.done ? pending : pending + next.value;
    if (eol === undefined) {
      const i = textNow.search(/[\r\n]/);
      if (i >= 0 && textNow[i] === '\n') eol = '\n';
      else if (i >= 0 && (i + 1 < textNow.length || next.done)) {
        if (textNow[i + 1] !== '\n') {
          rest = textNow; // a CR-only file
          break;
        }
        eol = '\r\n';
      }
    }
    const end = next.done ? textNow.length : eol === undefined ? -1 : textNow.lastIndexOf(eol);
    if (end < 0) {
      pending = textNow;
      if (pending.length > maxRecord) {
        rest = pending;
        break;
      }
      continue;
    }
    const block = textNow.slice(0, end);
    pending = next.done ? '' : textNow.slice(end + eol!.length);
    let from = 0;
    while (from <= block.length) {
      let to = eol === undefined ? -1 : block.indexOf(eol, from);
      if (to < 0) to = block.length;
      const raw = block.slice(from, to);
      const cells = raw.length > maxRecord ? undefined : splitLine(raw, options.delimiter, options.quote);
      if (cells === undefined) {
        rest = textNow.slice(from);
        pending = '';
        break;
      }
      if (raw !== '') {
        batch.push({ line, cells });
        if (batch.length >= 1000) {
          yield batch;
          batch = [];
        }
      }
      line++;
      from = to + (eol?.length ?? 1);
      if (to === block.length) break;
    }
    if (rest !== undefined || next.done) break;
  }
  if (rest !== undefined) {
    const taken = line - 1;
    const remaining = rest;
    async function* restText(): AsyncGenerator<string> {
      yield remaining;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        yield next.value;
      }
    }
    yield* csvParsed(restText(), options, maxRecord, eol, line, taken, batch);
    return;
  }
  if (batch.length) yield batch;
}

/** csv-parse over the rest of the text, from line `line` (`taken` lines were split before it). */
async function* csvParsed(
  text: AsyncIterable<string>,
  options: { delimiter: ',' | '\t'; quote: boolean; label: string },
  maxRecord: number,
  eol: '\n' | '\r\n' | undefined,
  firstLine: number,
  taken: number,
  started: TextRecord[],
): AsyncGenerator<TextRecord[]> {
  const parser = parse({
    delimiter: options.delimiter,
    quote: options.quote ? '"' : false,
    relax_column_count: true,
    relax_quotes: false,
    // Empty lines come through so every line is counted, and with the record as written,
    // so an empty line (dropped) is told from a line of `""` (a record of one empty cell).
    skip_empty_lines: false,
    raw: true,
    max_record_size: maxRecord,
    // The delimiter the file began with (csv-parse would otherwise find it anew from here).
    ...(eol === undefined ? {} : { record_delimiter: eol }),
  });
  const feed = (async () => {
    try {
      for await (const t of text) {
        if (parser.destroyed) return; // it failed: the reader reports its error
        if (!parser.write(t)) await drainedOrClosed(parser);
      }
      if (!parser.destroyed) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  try {
    let line = firstLine;
    let batch = started;
    for await (const { record: cells, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const at = line;
      // The record as written, with its record delimiter: its line breaks are the lines it took.
      line += countBreaks(raw);
      if (raw === '' || raw === '\n' || raw === '\r\n' || raw === '\r') continue;
      batch.push({ line: at, cells });
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  } catch (err) {
    // csv-parse counts lines from where it took over.
    const tooLarge = csvRecordError(err, options.label, maxRecord, taken);
    if (tooLarge) throw tooLarge;
    if (err instanceof CsvError) {
      const code = (err as { code: string }).code;
      const message = taken === 0 ? err.message : err.message.replace(/\bline (\d+)/g, (_, n: string) => `line ${Number(n) + taken}`);
      throw inputError(code === 'CSV_QUOTE_NOT_CLOSED' ? 'REPORT_TRUNCATED' : 'CSV_MALFORMED', `${options.label} is not well-formed: ${message}; nothing was imported.`, {
        details: { file: options.label, csvCode: code },
      });
    }
    throw err;
  } finally {
    await feed.catch(() => undefined);
  }
}

/**
 * Waits until `stream` takes writes again, or is closed: a parser that failed (a record past
 * the cap) never drains, and a feed waiting on it alone would wait for ever.
 */
function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** Line breaks in text: a CRLF, a lone LF or a lone CR each count once. */
function countBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 10) n++;
  return n;
}
