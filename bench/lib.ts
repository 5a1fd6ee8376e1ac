/**
 * Benchmark harness helpers: run a command, measure wall time and peak memory (RSS of
 * the process tree's largest process, via GNU time), repeat, and print ratios.
 * Benchmarks compare packops with an established tool on the same input in one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const WORK = join(ROOT, 'bench', '.work');
export const PACKOPS = join(ROOT, 'bin', 'packops.js');
mkdirSync(WORK, { recursive: true });

export interface Measurement {
  label: string;
  ms: number;
  /** Peak resident set size in MiB, when GNU time is available. */
  peakMiB?: number;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs a command once; throws if it fails unless `allowFail`. */
export function run(
  label: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean; input?: string } = {},
): Measurement {
  const env = { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env };
  const argv = GNU_TIME ? ['-f', '%M', cmd, ...args] : args;
  const start = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME ?? cmd, argv, { cwd: opts.cwd ?? ROOT, env, encoding: 'utf8', input: opts.input, maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${label}: ${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr?.slice(-2000)}`);
  }
  let peakMiB: number | undefined;
  if (GNU_TIME) {
    const lines = (r.stderr ?? '').trim().split('\n');
    const kb = Number(lines[lines.length - 1]);
    if (Number.isFinite(kb)) peakMiB = kb / 1024;
  }
  return { label, ms, peakMiB };
}

/** Runs `n` times and keeps the median time and the highest peak. */
export function median(label: string, n: number, fn: () => Measurement): Measurement {
  const all = Array.from({ length: n }, fn).sort((a, b) => a.ms - b.ms);
  const mid = all[Math.floor(all.length / 2)]!;
  const peaks = all.map((m) => m.peakMiB).filter((x): x is number => x !== undefined);
  return { label, ms: mid.ms, peakMiB: peaks.length ? Math.max(...peaks) : undefined };
}

export interface Comparison {
  name: string;
  ours: Measurement;
  theirs: Measurement;
  /** Human-readable target, e.g. "≤ 1.5× node -e 0". */
  target: string;
  /** Whether the target holds. */
  met: boolean;
  extra?: string;
}

export function ratio(a: Measurement, b: Measurement): number {
  return a.ms / b.ms;
}

export function report(c: Comparison): void {
  const r = ratio(c.ours, c.theirs);
  const mem = (m: Measurement) => (m.peakMiB !== undefined ? `, peak ${m.peakMiB.toFixed(0)} MiB` : '');
  console.log(`\n## ${c.name}`);
  console.log(`  ${c.ours.label}: ${c.ours.ms.toFixed(0)} ms${mem(c.ours)}`);
  console.log(`  ${c.theirs.label}: ${c.theirs.ms.toFixed(0)} ms${mem(c.theirs)}`);
  console.log(`  ratio ours/theirs: ${r.toFixed(2)}× (target ${c.target}) ${c.met ? 'MET' : 'NOT MET'}`);
  if (c.extra) console.log(`  ${c.extra}`);
}
