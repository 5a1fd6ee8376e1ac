/**
 * The one module that writes to the terminal. stdout carries results (exactly one JSON
 * document under --json); stderr carries progress and logs. Colour and spinners only
 * when stderr is a TTY and CI is unset; NO_COLOR and --no-color turn colour off.
 */
import { redactSecrets } from '../shared/redact.js';

/** The styles packops prints with: chalk's (level 1) on a terminal, the text as it is otherwise. */
export interface Colors {
  bold(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

/** No colour: what chalk at level 0 gives, without loading chalk. */
const PLAIN: Colors = { bold: String, cyan: String, dim: String, green: String, red: String, yellow: String };

/**
 * chalk is loaded only when this process writes to a terminal: piped output, CI logs and
 * --json runs (the common case for `validate` in a pipeline) never load it. An Output built
 * over other streams that claim to be terminals gets no colour unless a real one is attached.
 */
const chalk = process.stdout.isTTY || process.stderr.isTTY ? await import('chalk') : undefined;

function colors(on: boolean): Colors {
  return on && chalk ? new chalk.Chalk({ level: 1 }) : PLAIN;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

export interface Progress {
  /** Updates the progress text (e.g. "12/40 assets"). */
  update(text: string): void;
  /** Ends the progress with a success line. */
  succeed(text: string): void;
  /** Ends the progress with a failure line. */
  fail(text: string): void;
  /** Ends the progress without a line. */
  stop(): void;
}

interface OraLike {
  start(): OraLike;
  text: string;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

/**
 * The stream with every written string passed through the secret redactor (database
 * passwords): stderr only. stdout carries data, which is never rewritten.
 */
function redacting(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  const wrapped = Object.create(stream) as NodeJS.WritableStream;
  wrapped.write = ((chunk: unknown, ...rest: unknown[]) =>
    (stream.write as (...a: unknown[]) => boolean).call(stream, typeof chunk === 'string' ? redactSecrets(chunk) : chunk, ...rest)) as NodeJS.WritableStream['write'];
  return wrapped;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** Whether decorations (colour, spinners) go to stderr. */
  readonly interactive: boolean;
  readonly color: Colors;
  readonly stdoutColor: Colors;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream;
  private wroteJson = false;

  constructor(options: OutputOptions) {
    const env = options.env ?? process.env;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = redacting(options.stderr ?? process.stderr);
    this.json = options.json;
    this.quiet = options.quiet;
    this.verbose = options.verbose;
    const noColorEnv = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    const stderrTty = Boolean((this.stderr as { isTTY?: boolean }).isTTY);
    const stdoutTty = Boolean((this.stdout as { isTTY?: boolean }).isTTY);
    const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
    const colorAllowed = options.color && !noColorEnv;
    this.interactive = stderrTty && !ci && !options.quiet;
    this.color = colors(colorAllowed && stderrTty);
    this.stdoutColor = colors(colorAllowed && stdoutTty && !options.json);
  }

  /** Writes the command's result: JSON under --json, otherwise the rendered text. */
  result(data: unknown, render?: () => string): void {
    if (this.json) {
      this.writeJson(data);
      return;
    }
    if (render) {
      const text = render();
      if (text !== '') this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** Writes one JSON document to stdout; a second call is a programming error. */
  writeJson(data: unknown): void {
    if (this.wroteJson) throw new Error('Output.writeJson called twice: --json prints one document');
    this.wroteJson = true;
    // A replacer function makes JSON.stringify call back for every value: only when needed.
    this.stdout.write(`${JSON.stringify(data, holdsBigInt(data) ? jsonReplacer : undefined, 2)}\n`);
  }

  get jsonWritten(): boolean {
    return this.wroteJson;
  }

  /** Raw text to stdout (for formats such as CSV or JUnit that are the result itself). */
  raw(text: string): void {
    this.stdout.write(text);
  }

  /** Progress and information on stderr; silent with --quiet. */
  info(message: string): void {
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  /** Details only with --verbose. */
  debug(message: string): void {
    if (this.verbose) this.stderr.write(`${this.color.dim(message)}\n`);
  }

  /** Warnings go to stderr even with --quiet. */
  warn(message: string): void {
    this.stderr.write(`${this.color.yellow('warning')} ${message}\n`);
  }

  error(message: string): void {
    this.stderr.write(`${message}\n`);
  }

  /**
   * A spinner on an interactive terminal, plain start/end lines otherwise (nothing with
   * --quiet). ora is loaded lazily so that commands that never show progress do not pay.
   */
  async progress(text: string): Promise<Progress> {
    if (this.quiet) return { update: () => undefined, succeed: () => undefined, fail: () => undefined, stop: () => undefined };
    if (!this.interactive) {
      this.stderr.write(`${text}\n`);
      let last = 0;
      return {
        update: (t: string) => {
          // Plain progress lines at most every 2 s so CI logs stay readable.
          const now = Date.now();
          if (now - last >= 2000) {
            last = now;
            this.stderr.write(`${t}\n`);
          }
        },
        succeed: (t: string) => this.stderr.write(`${t}\n`),
        fail: (t: string) => this.stderr.write(`${t}\n`),
        stop: () => undefined,
      };
    }
    const { default: ora } = await import('ora');
    const spinner = (ora as unknown as (o: object) => OraLike)({ text, stream: this.stderr, isEnabled: true }).start();
    return {
      update: (t: string) => {
        spinner.text = t;
      },
      succeed: (t: string) => spinner.succeed(t),
      fail: (t: string) => spinner.fail(t),
      stop: () => spinner.stop(),
    };
  }
}

/** Whether `value` holds a bigint (or something that serialises itself, which might give one). */
function holdsBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  if (Array.isArray(value)) return value.some(holdsBigInt);
  return Object.keys(value).some((k) => holdsBigInt((value as Record<string, unknown>)[k]));
}

/** BigInt money values serialise as JSON numbers when safe, strings otherwise. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}
