/**
 * The inputs of an import: each file checked by the shared input rules (a regular file,
 * never a FIFO or device, within a size cap), opened once as a byte
 * stream that hashes (the batch's SHA-256) and counts (progress) what its reader takes.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { assertInput, inputStream, openInput } from '../../shared/input.js';

/** One input file of an import. */
export interface ImportInput {
  /** The path as given (messages, details). */
  file: string;
  size: number;
  /** What the reader found it to be (the summary's `format`); readers set it. */
  format?: string;
  /** The file as a byte stream, hashed (the batch's SHA-256) and counted for progress as it is read. Once. */
  open(): Readable;
  /** The file's SHA-256, set by a reader that read and hashed the file itself (then it is not read again for it). */
  sha256?: string;
}

export interface OpenedInput extends ImportInput {
  /** The SHA-256 of every byte read through `open` (undefined if it was never opened). */
  digest(): string | undefined;
}

/**
 * Largest import file: far beyond a year of store reports (the reading streams in bounded
 * memory), but a bound, so a /proc-style or endless file is refused before it is read.
 */
export const MAX_IMPORT_BYTES = 64 * 1024 ** 3;

/** The shared input rules for an import file (every open of one goes through them). */
export const IMPORT_INPUT = { maxBytes: MAX_IMPORT_BYTES, what: 'import file' } as const;
const INPUT = IMPORT_INPUT;

/** Checks each input is a regular file within the cap (the shared input rules) and returns its size. */
export async function fileSize(file: string): Promise<number> {
  return assertInput(file, INPUT);
}

export function makeInput(file: string, size: number, onBytes: (n: number) => void): OpenedInput {
  let hash: Hash | undefined;
  return {
    file,
    size,
    open() {
      if (hash) throw new Error(`${file} was opened twice by its importer`);
      const h = createHash('sha256');
      hash = h;
      const source = inputStream(openInput(file, INPUT), { highWaterMark: 1 << 20 });
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          h.update(chunk);
          onBytes(chunk.length);
          cb(null, chunk);
        },
      });
      source.on('error', (err) => tap.destroy(err)); // a read error ends the reader, never hangs it
      return source.pipe(tap);
    },
    digest() {
      return this.sha256 ?? hash?.digest('hex');
    },
  };
}

export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of inputStream(openInput(file, INPUT))) h.update(chunk as Buffer);
  return h.digest('hex');
}
