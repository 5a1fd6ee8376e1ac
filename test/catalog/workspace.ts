/**
 * A scratch workspace as a user would have it: fixture packs copied in, a throwaway key,
 * the fixture creators imported into a fresh ledger (SQLite, or PostgreSQL in that half), everything through the built
 * CLI. Tests release, publish and report from there; nothing is written into the repo.
 */
import { cpSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FIXTURES, runCli, tempDir, type RunResult } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';

export interface Workspace {
  dir: string;
  /** The workspace's ledger (PACKOPS_DB of every run): a SQLite file, or a PostgreSQL URL in that half. */
  db: string;
  cleanup(): void;
  /** Runs packops in the workspace with its ledger. */
  run(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  /** Relative paths of the copied packs. */
  packs: string[];
}

/** Seconds since 1970 at 00:00 UTC of a day. */
export const epochOf = (day: string): string => String(Date.parse(`${day}T00:00:00Z`) / 1000);

export async function workspace(packs: string[]): Promise<Workspace> {
  const tmp = tempDir('packops-ws-');
  for (const p of packs) {
    cpSync(join(FIXTURES, 'packs', p), join(tmp.dir, 'packs', p), { recursive: true, filter: (src) => basename(src) !== '.packops' });
  }
  const db = await ledgerAt(tmp.dir, 'packops.db');
  const run = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { cwd: tmp.dir, env: { PACKOPS_DB: db, PACKOPS_SECRET_KEY: undefined, SOURCE_DATE_EPOCH: undefined, ...env } });
  const must = async (args: string[]) => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`packops ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  };
  await must(['keys', 'generate', '--unencrypted', '--out', 'keys']);
  await must(['creators', 'import', join(FIXTURES, 'ledger', 'creators.json')]);
  return { dir: tmp.dir, db, cleanup: tmp.cleanup, run, packs: packs.map((p) => join('packs', p)) };
}
