/**
 * The CLI entry: commander wiring and the one error boundary. Heavy modules (sharp,
 * better-sqlite3, archiver) are imported inside the actions that need them, so that
 * `packops --help` and `--version` stay instant.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, inputError, isPackopsError } from '../shared/errors.js';
import { addSecret, redactSecrets } from '../shared/redact.js';
import { findKeyMaterial } from '../signing/material.js';
import { currentContext, resetContext } from './context.js';
import { Output } from './output.js';
import { registerCommands } from './commands/index.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The program with its commands. With `argv`, a run of one command loads only the file
 * that declares it (see commands/index.ts); without, every command is registered.
 */
export async function createProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('packops');
  program
    .description("Content operations for a children's app content-pack marketplace.")
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'print one JSON document on stdout and nothing else there')
    .option('-q, --quiet', 'print results only: no progress or information')
    .option('--verbose', 'print details, and stack traces for internal errors')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .addOption(new Option('--db <path|url>', 'the ledger (also PACKOPS_DB; default ./packops.db)'))
    .addOption(new Option('--config <file>', 'config file (default: packops.config.json found upwards)'))
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(false)
    .addHelpText(
      'after',
      `
Exit codes: 0 ok · 1 findings · 2 usage error · 3 input error · 4 state conflict · 70 internal error

Examples:
  $ packops validate fixtures/packs/ocean-creatures
  $ packops build fixtures/packs/ocean-creatures --key packops.key
  $ packops payouts report --period 2026-10 --format md`,
    );
  await registerCommands(program, argv === undefined ? undefined : commandName(argv));
  applyRecursively(program, (cmd) => {
    cmd.exitOverride();
    if (cmd !== program) cmd.showHelpAfterError('(run with --help for usage)');
  });
  return program;
}

/** Global flags that take no value, and those whose value is the next argument. */
const GLOBAL_FLAGS = new Set(['--json', '-q', '--quiet', '--verbose', '--no-color']);
const GLOBAL_WITH_VALUE = new Set(['--db', '--config']);

/**
 * The top-level command `argv` runs: its first argument after the global options. Any other
 * option before it (--help, --version, a typo) gives undefined, and every command is loaded.
 */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
    else if (!GLOBAL_FLAGS.has(arg) && !/^--(db|config)=/.test(arg)) return undefined;
  }
  return undefined;
}

function applyRecursively(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyRecursively(sub, fn);
}

/** Runs the CLI; sets process.exitCode and never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  resetContext();
  // A closed pipe (`packops … | head`) is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const program = await createProgram(argv);
  const wantsJson = argv.includes('--json');
  let code: number;
  try {
    await refuseKeyArguments(argv, process.env);
    await program.parseAsync([...argv]);
    code = currentContext()?.exitCode ?? 0;
  } catch (err) {
    code = reportError(err, wantsJson, argv.includes('--verbose'));
  }
  process.exitCode = code;
  return code;
}

/**
 * A secret key's contents are never a valid argument (PRODUCT.md §6: a secret key is never
 * printed or logged): PACKOPS_SECRET_KEY's key is registered for redaction from everything
 * printed, and an argument holding a secret key is refused before any command runs and
 * without being echoed (`--key "$(cat ci.key)"`, or the key given to `--out`, which would
 * otherwise become folder names on disk). The key flags get their own message from the one
 * check in signing/keys.ts; the registered secret is the belt to those braces.
 */
async function refuseKeyArguments(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  for (const secret of findKeyMaterial(env.PACKOPS_SECRET_KEY ?? '')?.secrets ?? []) addSecret(secret);
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    const found = findKeyMaterial(arg);
    if (found?.kind !== 'secret key') continue;
    for (const secret of found.secrets) addSecret(secret);
    const inline = /^(--[a-z][a-z-]*)=/.exec(arg);
    const flag = inline?.[1] ?? (argv[i - 1]?.startsWith('--') ? argv[i - 1] : undefined);
    const { assertKeyPath, isKeyFlag } = await import('../signing/keys.js');
    if (flag !== undefined && isKeyFlag(flag)) assertKeyPath(inline ? arg.slice(inline[0].length) : arg, flag);
    throw inputError('KEY_INVALID', `${flag ?? 'An argument'} was given a secret key's contents (the value is not shown); no packops argument takes a key.`, {
      hint: 'Give the secret key as a path with --key, or (in CI) its whole file in PACKOPS_SECRET_KEY="$(cat ci.key)". A value on the command line is visible in the process list and shell history: if the key is a real one, consider it exposed.',
      details: { ...(flag !== undefined ? { flag } : {}), given: 'secret key' },
    });
  }
}

function reportError(err: unknown, wantsJson: boolean, verbose: boolean): number {
  const ctx = currentContext();
  const out = ctx?.out ?? new Output({ json: wantsJson, quiet: false, verbose, color: !process.env.NO_COLOR });
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help' ||
      err.exitCode === 0
    ) {
      return 0;
    }
    // commander has already printed its message to stderr.
    if (out.json && !out.jsonWritten) {
      out.writeJson({ ok: false, error: { code: 'USAGE', message: redactSecrets(err.message.replace(/^error: /, '')), details: { commander: err.code } } });
    }
    return ExitCode.usage;
  }
  // A file the system would not let us read or write (permissions, a link loop, a full
  // disk) that no command turned into its own code is still an input problem, not a bug.
  if (!isPackopsError(err)) {
    const io = asSystemFileError(err);
    if (io) err = inputError('IO_ERROR', io.message, { hint: 'Check the path, its permissions and the free space.', details: { errno: io.code, syscall: io.syscall, ...(io.path ? { path: io.path } : {}) }, cause: err });
  }
  if (isPackopsError(err)) {
    if (out.json && !out.jsonWritten) {
      // stdout is never filtered: the error document's own words are (a driver's message).
      out.writeJson({
        ok: false,
        error: { code: err.code, message: redactSecrets(err.message), ...(err.hint ? { hint: redactSecrets(err.hint) } : {}), details: err.details ?? {} },
      });
    } else {
      out.error(`${out.color.red('error')} ${out.color.bold(err.code)}: ${err.message}`);
      if (err.hint) out.error(`${out.color.dim('hint:')} ${err.hint}`);
    }
    if (verbose && err.stack) out.error(err.stack);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (out.json && !out.jsonWritten) {
    out.writeJson({ ok: false, error: { code: 'INTERNAL', message: redactSecrets(message), details: {} } });
  } else {
    out.error(`${out.color.red('internal error')}: ${message}`);
    out.error(out.color.dim('This is a bug in packops. Run again with --verbose for the stack trace and report it.'));
  }
  if (verbose && err instanceof Error && err.stack) out.error(err.stack);
  return ExitCode.internal;
}

/** Node's system errors from fs calls: `code` like ENOENT/EACCES/ELOOP and the `syscall`. */
function asSystemFileError(err: unknown): { code: string; syscall: string; path?: string; message: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code) || typeof e.syscall !== 'string') return undefined;
  return { code: e.code, syscall: e.syscall, ...(typeof e.path === 'string' ? { path: e.path } : {}), message: e.message };
}
