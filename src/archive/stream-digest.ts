/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of an archive, hashed as it is written, on a
 * worker thread: the main thread reads, checks (SHA-256 of each variant) and writes, while
 * the worker hashes the archive's bytes, so that the two hashes of the whole file cost no
 * second read and share the work between two cores.
 *
 * The archive is assembled in a fixed ring of shared memory (SLOTS × SLOT bytes) that the
 * zip writer fills (variant files are read straight into it), writes to disk, and hands to
 * the worker slot by slot; the worker hashes a slot in place and gives it back. Nothing is
 * copied per chunk, and memory stays flat (the ring) however far the worker falls behind:
 * the writer waits for a free slot.
 * Where a worker cannot be started, the hashes run on the calling thread.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface ArchiveDigest {
  sha256: string;
  blake2b512: Buffer;
  bytes: number;
}

/**
 * Where archive bytes are assembled: `slots` slots of `slotSize` bytes in `ring`. The
 * writer fills a slot it holds and hands it over (`submit`); the consumer (the hasher) is
 * done with it when the returned promise settles (undefined: done already).
 */
export interface SlotRing {
  readonly ring: Buffer;
  readonly slots: number;
  readonly slotSize: number;
  /** The first `n` bytes of slot `i` are the archive's next bytes. */
  submit(i: number, n: number): Promise<void> | void;
}

export interface StreamDigest extends SlotRing {
  /** The digests of everything submitted so far; the hasher is done after it. */
  digest(): Promise<ArchiveDigest>;
  /** Stops the hasher without a result (on failure). */
  close(): void;
}

/** The ring: SLOTS × SLOT bytes (12 MiB), shared with the worker. */
const SLOTS = 6;
const SLOT = 2 * 1024 * 1024;

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

/** Two slots, hashed on this thread as they are submitted. */
function inThread(): StreamDigest {
  const sha = createHash('sha256');
  const b2 = createHash('blake2b512');
  const ring = Buffer.allocUnsafeSlow(2 * SLOT);
  let bytes = 0;
  return {
    ring,
    slots: 2,
    slotSize: SLOT,
    submit(i, n) {
      const view = ring.subarray(i * SLOT, i * SLOT + n);
      sha.update(view);
      b2.update(view);
      bytes += n;
    },
    async digest() {
      return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
    },
    close() {},
  };
}

/** A digest of a stream of archive bytes (on a worker thread when one can be started). */
export function streamDigest(): StreamDigest {
  const shared = new SharedArrayBuffer(SLOTS * SLOT);
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: shared, slot: SLOT } });
  } catch {
    return inThread();
  }
  /** Who waits for each slot the worker holds. */
  const held = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let bytes = 0;
  let failure: Error | undefined;
  let finished: ((d: ArchiveDigest) => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  worker.on('message', (m: number | { sha256: string; blake2b512: Uint8Array }) => {
    if (typeof m === 'number') {
      const waiter = held.get(m);
      held.delete(m);
      waiter?.resolve();
    } else {
      finished?.({ sha256: m.sha256, blake2b512: Buffer.from(m.blake2b512), bytes });
    }
  });
  const fail = (err: Error) => {
    failure ??= err;
    failed?.(failure);
    for (const waiter of held.values()) waiter.reject(failure);
    held.clear();
  };
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the archive hasher stopped')));
  return {
    ring: Buffer.from(shared),
    slots: SLOTS,
    slotSize: SLOT,
    submit(i, n) {
      if (failure) throw failure;
      bytes += n;
      const done = new Promise<void>((resolve, reject) => held.set(i, { resolve, reject }));
      worker.postMessage([i, n]);
      return done;
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
        worker.postMessage(null);
      });
    },
    close() {
      worker.removeAllListeners('exit');
      void worker.terminate();
    },
  };
}
