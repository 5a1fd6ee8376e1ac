/**
 * Peak memory of a spawned CLI, measured by the child itself: a module preloaded with
 * NODE_OPTIONS=--import writes `process.resourceUsage().maxRSS` (KiB) to a file as the
 * process exits. Works wherever Node does (no GNU time needed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RssProbe {
  /** Environment for runCli: preloads the probe, which writes to `file`. */
  env: Record<string, string>;
  /** The child's peak resident set size in MiB (throws if the child never wrote it). */
  peakMiB(): number;
}

/** A probe whose files live in `dir` (one probe per run: each run overwrites its file). */
export function rssProbe(dir: string, name: string): RssProbe {
  const hook = join(dir, `${name}.rss-hook.mjs`);
  const out = join(dir, `${name}.rss`);
  writeFileSync(
    hook,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  return {
    env: { NODE_OPTIONS: `--import=${hook}` },
    peakMiB: () => Number(readFileSync(out, 'utf8')) / 1024,
  };
}
