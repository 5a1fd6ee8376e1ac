/**
 * Streams the records of an import file: CSV with a header (csv-parse) or JSON Lines
 * (by extension .jsonl/.ndjson, or when the first non-blank character is "{").
 * Row numbers are those a person sees in an editor: for CSV the header is row 1 and the
 * first data row is row 2; for JSON Lines the row is the line number.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import { inputError } from '../shared/errors.js';

export type FileFormat = 'csv' | 'jsonl';

export interface SourceRecord {
  row: number;
  values: Record<string, unknown>;
  /** A problem with the record's shape (wrong column count, not a JSON object). */
  shapeError?: { column: string; message: string };
}

export interface ColumnSpec {
  required: readonly string[];
  optional: readonly string[];
}

export async function detectFormat(file: string): Promise<FileFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    await handle.close();
  }
}

export interface ReadOptions {
  format: FileFormat;
  columns: ColumnSpec;
  /** Called with each chunk of the file as it is read (hashing, progress). */
  onChunk?: (chunk: Buffer) => void;
}

/** Yields each record of the file in order. A broken header or CSV quoting is an input error. */
export async function* readRecords(file: string, options: ReadOptions): AsyncGenerator<SourceRecord> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  if (options.onChunk) {
    const cb = options.onChunk;
    stream.on('data', (chunk) => cb(chunk as Buffer));
  }
  if (options.format === 'csv') yield* readCsv(file, stream, options.columns);
  else yield* readJsonl(file, stream, options.columns);
}

async function* readCsv(file: string, stream: NodeJS.ReadableStream, spec: ColumnSpec): AsyncGenerator<SourceRecord> {
  const parser = stream.pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, trim: false }),
  );
  let header: string[] | undefined;
  let row = 1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record.map((h) => h.trim());
        checkHeader(file, header, spec);
        continue;
      }
      row++;
      const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      const n = Math.min(header.length, record.length);
      for (let i = 0; i < n; i++) values[header[i]!] = record[i];
      if (record.length !== header.length) {
        yield {
          row,
          values,
          shapeError: { column: '*', message: `The row has ${record.length} fields; the header has ${header.length}.` },
        };
      } else {
        yield { row, values };
      }
    }
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && String((err as { code: unknown }).code).startsWith('CSV_')) {
      throw inputError('CSV_MALFORMED', `${file} is not well-formed CSV: ${(err as unknown as Error).message}`, {
        details: { file, csvCode: (err as { code: string }).code },
      });
    }
    throw err;
  }
  if (!header) {
    throw inputError('IMPORT_HEADER', `${file} is empty: a CSV import needs a header row.`, {
      hint: `The header names the columns: ${spec.required.join(',')}`,
    });
  }
}

function checkHeader(file: string, header: string[], spec: ColumnSpec): void {
  const known = new Set([...spec.required, ...spec.optional]);
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

async function* readJsonl(file: string, stream: NodeJS.ReadableStream, spec: ColumnSpec): AsyncGenerator<SourceRecord> {
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const known = new Set([...spec.required, ...spec.optional]);
  let row = 0;
  let any = false;
  for await (const rawLine of lines) {
    row++;
    const line = row === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (line.trim() === '') continue;
    any = true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      yield { row, values: {}, shapeError: { column: '*', message: `The line is not JSON: ${(err as Error).message}` } };
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      yield { row, values: {}, shapeError: { column: '*', message: 'The line is not a JSON object.' } };
      continue;
    }
    const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    let unknownKey: string | undefined;
    for (const [k, v] of Object.entries(parsed)) {
      if (!known.has(k)) unknownKey ??= k;
      else values[k] = v;
    }
    const missing = spec.required.find((c) => !(c in values));
    if (unknownKey !== undefined) {
      yield { row, values, shapeError: { column: unknownKey, message: `Unknown field "${unknownKey}".` } };
    } else if (missing !== undefined) {
      yield { row, values, shapeError: { column: missing, message: `The field "${missing}" is missing.` } };
    } else {
      yield { row, values };
    }
  }
  if (!any) throw inputError('IMPORT_EMPTY', `${file} holds no rows.`);
}
