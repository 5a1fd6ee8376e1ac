/**
 * The inputs of an import: each file checked (a regular file), opened once as a byte
 * stream that hashes (the batch's SHA-256) and counts (progress) what its reader takes.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { errnoCode, inputError } from '../../shared/errors.js';

/** One input file of an import. */
export interface ImportInput {
  /** The path as given (messages, details). */
  file: string;
  size: number;
  /** What the reader found it to be (the summary's `format`); readers set it. */
  format?: string;
  /** The file as a byte stream, hashed (the batch's SHA-256) and counted for progress as it is read. Once. */
  open(): Readable;
}

export interface OpenedInput extends ImportInput {
  /** The SHA-256 of every byte read through `open` (undefined if it was never opened). */
  digest(): string | undefined;
}

export async function fileSize(file: string): Promise<number> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw inputError('PATH_NOT_FOUND', `${file} is not a file.`);
    return st.size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw inputError('PATH_NOT_FOUND', `${file} does not exist.`);
    throw err;
  }
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
      const source = createReadStream(file, { highWaterMark: 1 << 20 });
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
    digest: () => hash?.digest('hex'),
  };
}

export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
