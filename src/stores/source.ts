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
import { CsvError, parse, type Options } from 'csv-parse';
import iconv from 'iconv-lite';
import { inputError } from '../shared/errors.js';
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
}

export type Container = 'plain' | 'gzip' | 'zip';

/** Opens a report file through the shared input checks: a regular file, within the size cap. */
function openReport(file: string, limits: ReportLimits = DEFAULT_REPORT_LIMITS): OpenedInput {
  return openInput(file, { maxBytes: limits.maxBytes, what: 'store report' });
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

async function* gunzip(opened: OpenedInput, label: string, size: number, limits: ReportLimits): AsyncGenerator<Buffer> {
  const input = inputStream(opened, { highWaterMark: 1 << 20 });
  const z = createGunzip();
  input.on('error', (err) => z.destroy(err));
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
 * whose name `accept` takes (directories and macOS resource forks never).
 */
export async function* reportParts(
  file: string,
  accept: (name: string) => boolean,
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
): AsyncGenerator<ReportPart> {
  const opened = openReport(file, limits);
  const kind = containerOf(opened);
  const name = basename(file);
  const size = opened.size;
  if (kind === 'plain') {
    yield { label: file, name, chunks: inputStream(opened, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer> };
    return;
  }
  if (kind === 'gzip') {
    yield { label: file, name: name.replace(/\.gz$/i, ''), chunks: gunzip(opened, file, size, limits) };
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
      yield { label, name: basename(entryName), chunks };
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
 */
export async function* readRecords(
  text: AsyncIterable<string>,
  options: { delimiter: ',' | '\t'; quote: boolean; label: string; maxRecord?: number },
): AsyncGenerator<TextRecord[]> {
  const options_: Options<TextRecord, string[]> = {
    delimiter: options.delimiter,
    quote: options.quote ? '"' : false,
    relax_column_count: true,
    relax_quotes: false,
    skip_empty_lines: true,
    max_record_size: options.maxRecord ?? DEFAULT_REPORT_LIMITS.maxRecord,
    on_record: (record: string[], context) => ({ line: context.lines - countBreaks(record), cells: record }),
  };
  const parser = parse(options_ as unknown as Options);
  const feed = (async () => {
    try {
      for await (const t of text) {
        if (parser.destroyed) return;
        if (!parser.write(t)) await drainedOrClosed(parser);
      }
      if (!parser.destroyed) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  try {
    let batch: TextRecord[] = [];
    for await (const rec of parser as AsyncIterable<TextRecord>) {
      batch.push(rec);
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  } catch (err) {
    const maxRecord = options.maxRecord ?? DEFAULT_REPORT_LIMITS.maxRecord;
    const tooLarge = csvRecordError(err, options.label, maxRecord);
    if (tooLarge) throw tooLarge;
    if (err instanceof CsvError) {
      const code = (err as { code: string }).code;
      throw inputError(code === 'CSV_QUOTE_NOT_CLOSED' ? 'REPORT_TRUNCATED' : 'CSV_MALFORMED', `${options.label} is not well-formed: ${err.message}; nothing was imported.`, {
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

/** Line breaks inside the record's cells (quoted), so the record's first line can be named. */
function countBreaks(record: string[]): number {
  let n = 0;
  for (const c of record) {
    if (c.length > 0 && (c.includes('\n') || c.includes('\r'))) {
      for (let i = 0; i < c.length; i++) if (c.charCodeAt(i) === 10) n++;
    }
  }
  return n;
}
