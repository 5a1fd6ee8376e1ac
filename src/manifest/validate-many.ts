/**
 * `validatePacks`: many packs in one call, one outcome per target, in the order given.
 *
 * With asset files, packs interleave on this thread (a pool of `concurrency`): their time
 * goes to file reads and sharp's decodes, which run off the main thread. Without asset
 * files, every step (read, parse, schema, rules) is synchronous JavaScript on a small
 * file, so the targets are checked one after another on this thread. Worker threads were
 * tried for this and measured: each thread loads the checks again and warms its own JIT,
 * which costs more than 1,000 small manifests take (README, "Benchmarks").
 */
import { availableParallelism } from 'node:os';
import { isPackopsError } from '../shared/errors.js';
import { SOURCE_TEXTS, type CheckResult } from '../shared/findings.js';
import { validatePack, type ValidateOptions } from './validate.js';

export type ManyOptions = Omit<ValidateOptions, 'concurrency' | 'rules'> & {
  /** With files: packs checked at once (default: CPU count, at least 2). Without files: unused. */
  concurrency?: number;
};

/** What became of one target. */
export type TargetOutcome =
  | { kind: 'checked'; result: CheckResult }
  /** The target does not exist (PATH_NOT_FOUND): the caller names every missing one at once. */
  | { kind: 'missing' }
  /** Any other error, as thrown. */
  | { kind: 'failed'; error: unknown };

export async function validatePacks(targets: readonly string[], options: ManyOptions = {}): Promise<TargetOutcome[]> {
  const { concurrency, ...rest } = options;
  const check: ValidateOptions = { ...rest, cwd: rest.cwd ?? process.cwd() };
  if (check.files !== false) {
    const { default: pLimit } = await import('p-limit');
    const limit = pLimit(concurrency ?? Math.max(2, availableParallelism()));
    return Promise.all(targets.map((target) => limit(() => checkOne(target, check))));
  }
  const out = new Array<TargetOutcome>(targets.length);
  for (let i = 0; i < targets.length; i++) out[i] = await checkOne(targets[i]!, check);
  return out;
}

async function checkOne(target: string, options: ValidateOptions): Promise<TargetOutcome> {
  try {
    const v = await validatePack(target, options);
    const texts = v[SOURCE_TEXTS];
    return { kind: 'checked', result: { target: v.target, ok: v.ok, findings: v.findings, ...(texts !== undefined ? { [SOURCE_TEXTS]: texts } : {}) } };
  } catch (err) {
    if (isPackopsError(err) && err.code === 'PATH_NOT_FOUND') return { kind: 'missing' };
    return { kind: 'failed', error: err };
  }
}
