/**
 * The error model. Two kinds of failure exist:
 * - PackopsError: expected, user-facing (bad input, usage, conflict). Carries a stable
 *   code, the exit code, an actionable message and optionally a hint and details.
 * - anything else: an internal error (exit 70); the stack is shown only with --verbose.
 *
 * Library code throws; only the CLI entry turns an error into an exit code.
 */

export const ExitCode = {
  ok: 0,
  findings: 1,
  usage: 2,
  input: 3,
  conflict: 4,
  internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class PackopsError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, exitCode: ExitCodeValue, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PackopsError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Usage error (exit 2): unknown flag, missing or malformed argument. */
export function usageError(message: string, options?: ErrorOptions): PackopsError {
  return new PackopsError('USAGE', ExitCode.usage, message, options);
}

/** Input error (exit 3): missing, unreadable or malformed file; bad rows. */
export function inputError(code: string, message: string, options?: ErrorOptions): PackopsError {
  return new PackopsError(code, ExitCode.input, message, options);
}

/** State conflict (exit 4): closed period, duplicate slug, ledger newer than the tool. */
export function conflictError(code: string, message: string, options?: ErrorOptions): PackopsError {
  return new PackopsError(code, ExitCode.conflict, message, options);
}

export function isPackopsError(err: unknown): err is PackopsError {
  return err instanceof PackopsError;
}

/** Node's fs errors carry a `code` such as ENOENT. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
