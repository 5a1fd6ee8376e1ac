/**
 * `validatePacks`: many packs in one call, one outcome per target, in the order given.
 *
 * With asset files, packs interleave on this thread (a pool of `concurrency`): their time
 * goes to file reads and sharp's decodes, which run off the main thread. Without asset
 * files, every step (read, parse, schema, rules) is JavaScript on one thread, so the
 * targets are shared out among worker threads: each thread (this one included) takes the
 * next batch from a shared counter until none is left, so a thread that started late or
 * met bigger manifests simply takes fewer batches. The outcome is the same as checking
 * the targets one after another; only the order of work differs.
 */
import { availableParallelism } from 'node:os';
import { isPackopsError, PackopsError, type ExitCodeValue } from '../shared/errors.js';
import type { CheckResult } from '../shared/findings.js';
import type { ValidateOptions } from './validate.js';

export type ManyOptions = Omit<ValidateOptions, 'concurrency' | 'rules'> & {
  /**
   * With files: packs checked at once (default: CPU count, at least 2). Without files:
   * threads checking manifests at once (default: CPU count); 1 keeps to this thread.
   */
  concurrency?: number;
};

/** What became of one target. */
export type TargetOutcome =
  | { kind: 'checked'; result: CheckResult }
  /** The target does not exist (PATH_NOT_FOUND): the caller names every missing one at once. */
  | { kind: 'missing' }
  /** Any other error, as thrown (rebuilt from a worker's message when it came from one). */
  | { kind: 'failed'; error: unknown };

/**
 * A worker thread costs a few tens of milliseconds to start (its own V8 heap and the
 * manifest modules loaded again); below this many targets per thread it does not pay.
 */
export const MIN_TARGETS_PER_THREAD = 100;
/** Targets a thread takes from the shared counter at a time. */
const BATCH = 16;

export async function validatePacks(targets: readonly string[], options: ManyOptions = {}): Promise<TargetOutcome[]> {
  const { concurrency, ...rest } = options;
  const check: CheckOptions = { ...rest, cwd: rest.cwd ?? process.cwd() };
  if (check.files !== false) return withFiles(targets, check, concurrency ?? Math.max(2, availableParallelism()));
  // Running from source (tests under vitest), there is no compiled worker module to start.
  const fromSource = import.meta.url.endsWith('.ts');
  const threads = fromSource ? 1 : threadCount(targets.length, concurrency ?? availableParallelism());
  if (threads <= 1) return checkShare(targets, check, undefined);
  return shared(targets, check, threads);
}

/** Threads (this one included) worth using for `count` manifests, at most `limit`. */
export function threadCount(count: number, limit: number): number {
  return Math.max(1, Math.min(limit, Math.floor(count / MIN_TARGETS_PER_THREAD)));
}

type CheckOptions = Omit<ManyOptions, 'concurrency'> & { cwd: string };

/** Loaded on first use, so that workers start before this thread loads the checks. */
let validateModule: Promise<typeof import('./validate.js')> | undefined;

async function checkOne(target: string, options: CheckOptions): Promise<TargetOutcome> {
  validateModule ??= import('./validate.js');
  const { validatePack } = await validateModule;
  try {
    const v = await validatePack(target, options);
    return { kind: 'checked', result: { target: v.target, ok: v.ok, findings: v.findings } };
  } catch (err) {
    if (isPackopsError(err) && err.code === 'PATH_NOT_FOUND') return { kind: 'missing' };
    return { kind: 'failed', error: err };
  }
}

async function withFiles(targets: readonly string[], options: CheckOptions, concurrency: number): Promise<TargetOutcome[]> {
  const { default: pLimit } = await import('p-limit');
  const limit = pLimit(concurrency);
  return Promise.all(targets.map((target) => limit(() => checkOne(target, options))));
}

/**
 * Checks batches of `targets` one after another until the shared counter runs past the
 * end (no counter: all of them). Returns the outcomes by index; the others stay empty.
 */
export async function checkShare(
  targets: readonly string[],
  options: CheckOptions,
  counter: Int32Array | undefined,
): Promise<TargetOutcome[]> {
  const out: TargetOutcome[] = new Array<TargetOutcome>(targets.length);
  if (counter === undefined) {
    for (let i = 0; i < targets.length; i++) out[i] = await checkOne(targets[i]!, options);
    return out;
  }
  for (let start = Atomics.add(counter, 0, BATCH); start < targets.length; start = Atomics.add(counter, 0, BATCH)) {
    const end = Math.min(start + BATCH, targets.length);
    for (let i = start; i < end; i++) out[i] = await checkOne(targets[i]!, options);
  }
  return out;
}

/** What a worker is given. */
export interface WorkerInput {
  targets: readonly string[];
  options: CheckOptions;
  counter: SharedArrayBuffer;
}

/** What a worker sends back: the outcomes it made, by index, errors flattened for the message. */
export type WorkerOutcome = [index: number, outcome: Exclude<TargetOutcome, { kind: 'failed' }> | { kind: 'failed'; error: SentError }];

type SentError =
  | { packops: true; code: string; exitCode: ExitCodeValue; message: string; hint?: string; details?: Record<string, unknown> }
  | { packops: false; message: string; stack?: string };

export function sendable(outcomes: readonly TargetOutcome[]): WorkerOutcome[] {
  const sent: WorkerOutcome[] = [];
  outcomes.forEach((o, i) => {
    if (o.kind !== 'failed') sent.push([i, o]);
    else sent.push([i, { kind: 'failed', error: sendError(o.error) }]);
  });
  return sent;
}

function sendError(err: unknown): SentError {
  if (isPackopsError(err)) {
    return { packops: true, code: err.code, exitCode: err.exitCode, message: err.message, hint: err.hint, details: err.details };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { packops: false, message: e.message, stack: e.stack };
}

function receivedError(sent: SentError): Error {
  if (sent.packops) return new PackopsError(sent.code, sent.exitCode, sent.message, { hint: sent.hint, details: sent.details });
  const err = new Error(sent.message);
  if (sent.stack !== undefined) err.stack = sent.stack;
  return err;
}

async function shared(targets: readonly string[], options: CheckOptions, threads: number): Promise<TargetOutcome[]> {
  const { Worker } = await import('node:worker_threads');
  const counter = new SharedArrayBuffer(4);
  const input: WorkerInput = { targets, options, counter };
  const workers = Array.from({ length: threads - 1 }, () => {
    const worker = new Worker(new URL('./validate-worker.js', import.meta.url), { workerData: input });
    return new Promise<WorkerOutcome[]>((resolve, reject) => {
      let answered = false;
      worker.once('message', (sent: WorkerOutcome[]) => {
        answered = true;
        resolve(sent);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (!answered) reject(new Error(`a validate worker stopped (exit ${code}) before sending its outcomes`));
      });
    });
  });
  // This thread takes batches too, while the workers start.
  const out = await checkShare(targets, options, new Int32Array(counter));
  for (const sent of await Promise.all(workers)) {
    for (const [i, o] of sent) out[i] = o.kind === 'failed' ? { kind: 'failed', error: receivedError(o.error) } : o;
  }
  for (let i = 0; i < targets.length; i++) {
    if (out[i] === undefined) throw new Error(`no outcome for target ${i} (${targets[i]})`);
  }
  return out;
}
