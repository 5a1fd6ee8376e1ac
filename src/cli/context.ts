/**
 * What every command action receives: resolved global options, the config, the output
 * and the working directory. Built once per invocation from commander's parsed options.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, resolveOption, type PackopsConfig } from './config.js';
import { Output } from './output.js';
import { registerPasswords } from '../ledger/location.js';

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  /** Ledger path or URL, resolved: flag > PACKOPS_DB > config > ./packops.db. */
  db: string;
  config?: string;
}

export interface CliContext {
  global: GlobalOptions;
  config: PackopsConfig;
  configPath?: string;
  out: Output;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Resolves a path given on the command line against the working directory. */
  path(p: string): string;
  /** Sets the process exit code (the entry applies it; library code never exits). */
  setExitCode(code: number): void;
  exitCode: number;
}

export interface ContextDeps {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

let current: CliContext | undefined;

/** The context of the running invocation, if one was built (used by the error boundary). */
export function currentContext(): CliContext | undefined {
  return current;
}

export function resetContext(): void {
  current = undefined;
}

/** Builds the context from the command being run (its options include the globals). */
export function buildContext(command: Command, deps: ContextDeps = {}): CliContext {
  const cwd = deps.cwd ?? process.cwd();
  const env = deps.env ?? process.env;
  const opts = command.optsWithGlobals() as Record<string, unknown>;
  const json = Boolean(opts.json);
  const quiet = Boolean(opts.quiet);
  const verbose = Boolean(opts.verbose);
  const color = opts.color !== false;
  const out = new Output({ json, quiet, verbose, color, env, stdout: deps.stdout, stderr: deps.stderr });
  // Output first: a broken config file must still be reported in the requested format.
  current = {
    global: { json, quiet, verbose, color, db: resolve(cwd, 'packops.db') },
    config: {},
    out,
    cwd,
    env,
    path: (p: string) => resolve(cwd, p),
    setExitCode(code: number) {
      this.exitCode = Math.max(this.exitCode, code);
    },
    exitCode: 0,
  };
  const loaded = loadConfig(cwd, typeof opts.config === 'string' ? opts.config : undefined);
  const configDir = loaded.path ? resolve(loaded.path, '..') : cwd;
  const dbRaw = resolveOption<string>(command, 'db', {
    env: env.PACKOPS_DB,
    config: typeof loaded.config.db === 'string' ? loaded.config.db : undefined,
  });
  registerPasswords(dbRaw, env);
  const fromConfig = command.getOptionValueSourceWithGlobals?.('db') !== 'cli' && !env.PACKOPS_DB && loaded.config.db;
  const db =
    dbRaw === undefined
      ? resolve(cwd, 'packops.db')
      : isUrl(dbRaw) || isAbsolute(dbRaw)
        ? dbRaw
        : resolve(fromConfig ? configDir : cwd, dbRaw);
  current.global = { json, quiet, verbose, color, db, config: typeof opts.config === 'string' ? opts.config : undefined };
  current.config = loaded.config;
  current.configPath = loaded.path;
  return current;
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}
