/**
 * Streams the records of an import file: CSV with a header (csv-parse) or JSON Lines
 * (by extension .jsonl/.ndjson, or when the first non-blank character is "{").
 * Row numbers are those a person sees in an editor: for CSV the header is row 1 and the
 * first data row is row 2; for JSON Lines the row is the line number.
 */
import { readSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CsvError, parse } from 'csv-parse';
import { inputError } from '../shared/errors.js';
import { inputStream, openInput, type InputOptions } from '../shared/input.js';
import { csvRecordError, MAX_RECORD_CHARS, recordTooLarge, splitLines, utf8Text } from '../shared/lines.js';

export type FileFormat = 'csv' | 'jsonl';

export interface SourceRecord {
  row: number;
  /** The row's cells in the order of the spec's columns (required, then optional); absent cells are undefined. */
  cells: unknown[];
  /** A problem with the record's shape (wrong column count, not a JSON object). */
  shapeError?: { column: string; message: string };
  /** The record as read (CSV fields, or the JSON Lines line), kept only for a record whose shape is wrong. */
  raw?: string | readonly string[];
}

export interface ColumnSpec {
  required: readonly string[];
  optional: readonly string[];
}

/** The format of `file`: by its extension, else by its first bytes (opened through the shared input checks `input`). */
export async function detectFormat(file: string, input: InputOptions): Promise<FileFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  const opened = openInput(file, input);
  try {
    const buffer = Buffer.alloc(Math.min(512, opened.size));
    const bytesRead = buffer.length === 0 ? 0 : readSync(opened.fd, buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    opened.close();
  }
}

export interface ReadOptions {
  format: FileFormat;
  columns: ColumnSpec;
  /** Called with each chunk of the file as it is read (hashing, progress). */
  onChunk?: (chunk: Buffer) => void;
  /** Bytes per read (default 1 MiB; tests use small reads to cross every boundary). */
  readSize?: number;
}

/** The spec's columns in cell order. */
export function specColumns(spec: ColumnSpec): string[] {
  return [...spec.required, ...spec.optional];
}

/**
 * Yields the records of the file in order, in chunks of up to `chunkSize` (records are
 * read synchronously from the parser's buffer, so there is no promise per row). A broken
 * header or CSV quoting is an input error.
 */
export async function* readChunks(file: string, options: ReadOptions & { chunkSize: number }): AsyncGenerator<SourceRecord[]> {
  const opened = openInput(file, { maxBytes: Number.MAX_SAFE_INTEGER, what: 'import file' });
  yield* readRecords(file, inputStream(opened, { highWaterMark: options.readSize ?? 1 << 20 }), options);
}

/**
 * The same over any byte stream (a file, an entry of a container, decoded text): `name`
 * is what messages call it. Importers that read containers hand their bytes in here.
 */
export async function* readRecords(
  name: string,
  stream: Readable,
  options: Omit<ReadOptions, 'readSize'> & { chunkSize: number },
): AsyncGenerator<SourceRecord[]> {
  const file = name;
  if (options.format === 'csv') {
    yield* readCsv(file, stream, options.columns, options.chunkSize, options.onChunk);
    return;
  }
  yield* readJsonl(file, tapped(stream, options.onChunk), options.columns, options.chunkSize);
}

/** The chunks of `stream`, each shown to `onChunk` first. */
async function* tapped(stream: Readable, onChunk: ((chunk: Buffer) => void) | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    onChunk?.(chunk as Buffer);
    yield chunk as Buffer;
  }
}

/** Reads a Readable in object mode without a promise per object. */
async function* drain<T>(readable: Readable): AsyncGenerator<T[]> {
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  readable.on('end', () => {
    ended = true;
    wake?.();
  });
  readable.on('error', (err) => {
    failure = err;
    wake?.();
  });
  readable.on('readable', () => wake?.());
  for (;;) {
    const batch: T[] = [];
    let item: T | null;
    while ((item = readable.read() as T | null) !== null) batch.push(item);
    if (failure !== undefined) throw failure;
    if (batch.length) yield batch;
    else if (ended) return;
    else await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }
}

/** A CR or LF that is not part of a CRLF pair. */
const LONE_CR_OR_LF = /\r(?!\n)|(?<!\r)\n/;

/**
 * CSV records, in order. Text with no quote character is read by splitting lines and
 * fields, which is exactly what csv-parse (with these options: `,`, the record delimiter
 * found first, empty lines skipped, no trimming) makes of such text, at a fraction of the
 * cost. From the first block of lines that holds a quote (or a stray CR/LF, or a
 * CR-only file) to the end of the file, csv-parse reads the text: quoting, its errors and
 * everything else keep its exact behaviour.
 */
async function* readCsv(
  file: string,
  stream: Readable,
  spec: ColumnSpec,
  chunkSize: number,
  onChunk: ((chunk: Buffer) => void) | undefined,
): AsyncGenerator<SourceRecord[]> {
  const columns = specColumns(spec);
  let header: string[] | undefined;
  let positions: number[] = [];
  let identity = false;
  let row = 1;
  let out: SourceRecord[] = [];
  const accept = (record: string[]): void => {
    if (!header) {
      header = record.map((h) => h.trim());
      checkHeader(file, header, spec);
      positions = columns.map((c) => header!.indexOf(c));
      // A header in the spec's order (and with every column) needs no reordering.
      identity = positions.every((p, i) => p === i) && header.length === columns.length;
      return;
    }
    row++;
    const cells = identity ? record : positions.map((p) => (p < 0 ? undefined : record[p]));
    if (record.length !== header.length) {
      out.push({ row, cells, raw: record, shapeError: { column: '*', message: `The row has ${record.length} fields; the header has ${header.length}.` } });
    } else {
      out.push({ row, cells });
    }
  };
  function* flushOut(all: boolean): Generator<SourceRecord[]> {
    while (out.length >= chunkSize || (all && out.length > 0)) {
      const part = out.length > chunkSize ? out.slice(0, chunkSize) : out;
      out = out.length > chunkSize ? out.slice(chunkSize) : [];
      yield part;
    }
  }

  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let started = false;
  let delimiter: '\n' | '\r\n' | undefined;
  /** Text that csv-parse reads from here to the end (undefined while the plain path holds). */
  let rest: string | undefined;
  /** Physical lines read by the plain path, to give csv-parse's line numbers in file terms. */
  let plainLines = 0;
  for (;;) {
    const next = await chunks.next();
    let text = pending;
    if (next.done) text += decoder.end();
    else {
      onChunk?.(next.value);
      text += decoder.write(next.value);
    }
    if (!started && text.length > 0) {
      started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (delimiter === undefined) {
      const i = text.search(/[\r\n]/);
      if (i >= 0 && text[i] === '\n') delimiter = '\n';
      else if (i >= 0 && i + 1 < text.length) {
        if (text[i + 1] !== '\n') {
          rest = text; // a CR-only file
          break;
        }
        delimiter = '\r\n';
      }
    }
    let block: string;
    if (next.done) {
      block = text;
      pending = '';
    } else {
      const end = delimiter === undefined ? -1 : text.lastIndexOf(delimiter);
      if (end < 0) {
        pending = text;
        // A line this long is part of a record past the cap, however it is quoted.
        if (pending.length > MAX_RECORD_CHARS) throw recordTooLarge(file, plainLines + 1);
        continue;
      }
      block = text.slice(0, end);
      pending = text.slice(end + delimiter!.length);
    }
    if (block.includes('"') || (delimiter === '\r\n' ? LONE_CR_OR_LF.test(block) : block.includes('\r'))) {
      rest = text;
      break;
    }
    if (block.length > 0 || !next.done) {
      const lines = delimiter === undefined ? [block] : block.split(delimiter);
      for (let i = 0; i < lines.length; i++) if (lines[i]!.length > MAX_RECORD_CHARS) throw recordTooLarge(file, plainLines + i + 1);
      plainLines += lines.length;
      for (const line of lines) if (line !== '') accept(line.split(','));
    }
    yield* flushOut(false);
    if (next.done) break;
  }

  if (rest !== undefined) {
    const remaining = rest;
    async function* text(): AsyncGenerator<string> {
      yield remaining;
      for (;;) {
        const next = await chunks.next();
        if (next.done) break;
        onChunk?.(next.value);
        yield decoder.write(next.value);
      }
      const tail = decoder.end();
      if (tail) yield tail;
    }
    const source = Readable.from(text(), { objectMode: true });
    const parser = source.pipe(
      parse({
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        trim: false,
        max_record_size: MAX_RECORD_CHARS,
        // The delimiter the file began with (csv-parse would otherwise find it anew from here).
        ...(delimiter === undefined ? {} : { record_delimiter: delimiter }),
      }),
    );
    source.on('error', (err) => parser.destroy(err)); // a read error ends the parse, never hangs it
    try {
      for await (const batch of drain<string[]>(parser)) {
        for (const record of batch) accept(record);
        yield* flushOut(false);
      }
    } catch (err) {
      const tooLarge = csvRecordError(err, file, MAX_RECORD_CHARS, plainLines);
      if (tooLarge) throw tooLarge;
      // Every csv-parse error (its codes are not all CSV_…: a quote inside an unquoted field is INVALID_OPENING_QUOTE).
      if (err instanceof CsvError) {
        // csv-parse counts lines from where it took over.
        const message = err.message.replace(/\bline (\d+)/g, (_, n: string) => `line ${Number(n) + plainLines}`);
        throw inputError('CSV_MALFORMED', `${file} is not well-formed CSV: ${message}`, {
          details: { file, csvCode: (err as { code: string }).code },
        });
      }
      throw err;
    }
  }
  yield* flushOut(true);
  if (!header) {
    throw inputError('IMPORT_HEADER', `${file} is empty: a CSV import needs a header row.`, {
      hint: `The header names the columns: ${spec.required.join(',')}`,
    });
  }
}

function checkHeader(file: string, header: string[], spec: ColumnSpec): void {
  const known = new Set(specColumns(spec));
  const missing = spec.required.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !known.has(c));
  const duplicate = header.filter((c, i) => header.indexOf(c) !== i);
  if (missing.length || unknown.length || duplicate.length) {
    const parts = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unknown.length ? `unknown ${unknown.join(', ')}` : '',
      duplicate.length ? `repeated ${duplicate.join(', ')}` : '',
    ].filter(Boolean);
    throw inputError('IMPORT_HEADER', `The header of ${file} does not fit: ${parts.join('; ')}.`, {
      hint: `Required columns: ${spec.required.join(', ')}. Optional: ${spec.optional.join(', ') || 'none'}.`,
      details: { file, missing, unknown, duplicate },
    });
  }
}

async function* readJsonl(file: string, chunks: AsyncIterable<Buffer>, spec: ColumnSpec, chunkSize: number): AsyncGenerator<SourceRecord[]> {
  const columns = specColumns(spec);
  const index = new Map(columns.map((c, i) => [c, i]));
  let row = 0;
  let out: SourceRecord[] = [];
  // Lines as readline splits them (CRLF, LF, lone CR), each at most MAX_RECORD_CHARS long.
  for await (const batch of splitLines(utf8Text(chunks), { label: file })) {
    for (const rawLine of batch) {
      row++;
      const line = row === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
      if (line.trim() === '') continue;
      out.push(jsonlRecord(row, line, columns, index, spec));
      if (out.length >= chunkSize) {
        yield out;
        out = [];
      }
    }
  }
  // No lines at all is an empty import, like a CSV file with only its header.
  if (out.length) yield out;
}

function jsonlRecord(row: number, line: string, columns: string[], index: Map<string, number>, spec: ColumnSpec): SourceRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return { row, cells: [], raw: line, shapeError: { column: '*', message: `The line is not JSON: ${(err as Error).message}` } };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { row, cells: [], raw: line, shapeError: { column: '*', message: 'The line is not a JSON object.' } };
  }
  const cells: unknown[] = new Array<unknown>(columns.length);
  let unknownKey: string | undefined;
  for (const [k, v] of Object.entries(parsed)) {
    const i = index.get(k);
    if (i === undefined) unknownKey ??= k;
    else cells[i] = v;
  }
  const missing = spec.required.find((c) => cells[index.get(c)!] === undefined);
  if (unknownKey !== undefined) return { row, cells, raw: line, shapeError: { column: unknownKey, message: `Unknown field "${unknownKey}".` } };
  if (missing !== undefined) return { row, cells, raw: line, shapeError: { column: missing, message: `The field "${missing}" is missing.` } };
  return { row, cells };
}
