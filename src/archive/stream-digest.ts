/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of an archive, fed its bytes as they are
 * written, on a worker thread: the main thread reads, checks (SHA-256 + CRC-32 of each
 * variant) and writes, while the worker hashes the archive's bytes, so that the two hashes
 * of the whole file cost no second read and share the work between two cores.
 *
 * Each chunk is copied into a fixed ring of shared memory (a memcpy, far cheaper than the
 * hashes) that the worker hashes in place: memory stays flat (8 MiB) however far the worker
 * falls behind, and nothing is allocated per chunk.
 * Where a worker cannot be started, the hashes run on the calling thread.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface ArchiveDigest {
  sha256: string;
  blake2b512: Buffer;
  bytes: number;
}

export interface StreamDigest {
  /** Hashes the next bytes of the stream (resolves when the chunk may be reused and more sent). */
  update(chunk: Uint8Array): Promise<void> | void;
  /** The digests of everything given so far; the hasher is done after it. */
  digest(): Promise<ArchiveDigest>;
  /** Stops the hasher without a result (on failure). */
  close(): void;
}

/** The ring the chunks are copied into: SLOTS × SLOT bytes, shared with the worker. */
const SLOTS = 8;
const SLOT = 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ring = new Uint8Array(workerData.ring);
const slot = workerData.slot;
const sha = createHash('sha256');
const b2 = createHash('blake2b512');
parentPort.on('message', (m) => {
  if (m === null) {
    parentPort.postMessage({ sha256: sha.digest('hex'), blake2b512: b2.digest() });
    return;
  }
  const view = ring.subarray(m[0] * slot, m[0] * slot + m[1]);
  sha.update(view);
  b2.update(view);
  parentPort.postMessage(m[0]);
});
`;

function inThread(): StreamDigest {
  const sha = createHash('sha256');
  const b2 = createHash('blake2b512');
  let bytes = 0;
  return {
    update(chunk) {
      sha.update(chunk);
      b2.update(chunk);
      bytes += chunk.length;
    },
    async digest() {
      return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
    },
    close() {},
  };
}

/** A digest of a stream of archive bytes (on a worker thread when one can be started). */
export function streamDigest(): StreamDigest {
  const ring = new SharedArrayBuffer(SLOTS * SLOT);
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring, slot: SLOT } });
  } catch {
    return inThread();
  }
  const bytesOf = new Uint8Array(ring);
  const free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  let bytes = 0;
  let failure: Error | undefined;
  let slotFreed: (() => void) | undefined;
  let finished: ((d: ArchiveDigest) => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  worker.on('message', (m: number | { sha256: string; blake2b512: Uint8Array }) => {
    if (typeof m === 'number') {
      free.push(m);
      const wake = slotFreed;
      slotFreed = undefined;
      wake?.();
    } else {
      finished?.({ sha256: m.sha256, blake2b512: Buffer.from(m.blake2b512), bytes });
    }
  });
  const fail = (err: Error) => {
    failure ??= err;
    failed?.(failure);
    const wake = slotFreed;
    slotFreed = undefined;
    wake?.();
  };
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the archive hasher stopped')));
  // Chunks are packed into the current slot, which is handed to the worker when full (or at
  // the end): one message per MiB, not one per header and file.
  let current = -1;
  let fill = 0;
  const flush = () => {
    if (current < 0) return;
    worker.postMessage([current, fill]);
    current = -1;
    fill = 0;
  };
  /** Copies as much of `chunk` from `at` as fits without waiting; returns where it stopped. */
  const pack = (chunk: Uint8Array, at: number): number => {
    while (at < chunk.length) {
      if (current < 0) {
        if (free.length === 0) return at;
        current = free.pop()!;
      }
      const n = Math.min(chunk.length - at, SLOT - fill);
      bytesOf.set(chunk.subarray(at, at + n), current * SLOT + fill);
      fill += n;
      at += n;
      if (fill === SLOT) flush();
    }
    return at;
  };
  const send = async (chunk: Uint8Array, at: number): Promise<void> => {
    while (at < chunk.length) {
      while (free.length === 0 && current < 0) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (slotFreed = resolve));
      }
      if (failure) throw failure;
      at = pack(chunk, at);
    }
  };
  return {
    update(chunk) {
      if (failure) throw failure;
      bytes += chunk.length;
      // The common case (room in the ring) copies and returns without a promise.
      const at = pack(chunk, 0);
      if (at < chunk.length) return send(chunk, at);
    },
    digest() {
      return new Promise<ArchiveDigest>((resolve, reject) => {
        if (failure) return reject(failure);
        finished = (d) => {
          worker.removeAllListeners('exit');
          void worker.terminate();
          resolve(d);
        };
        failed = reject;
        flush();
        worker.postMessage(null);
      });
    },
    close() {
      worker.removeAllListeners('exit');
      void worker.terminate();
    },
  };
}
