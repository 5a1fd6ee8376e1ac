/**
 * Statement file names. A creator id becomes one path segment of a file name (the CSV files
 * of `payouts report --out`, the HTML/PDF pages), so only the ledger's own id form is taken:
 * kebab-case, a-z, 0-9 and single hyphens (no dot, no slash, never "." or ".."). A damaged
 * or hand-edited id is refused (STATEMENT_FILE_NAME), never turned into a path.
 */
import { inputError } from '../shared/errors.js';

export const STATEMENT_FILE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** The creator id as a file name stem, or STATEMENT_FILE_NAME. */
export function statementFileStem(creator: string): string {
  if (STATEMENT_FILE_NAME.test(creator)) return creator;
  throw inputError('STATEMENT_FILE_NAME', `The creator id ${JSON.stringify(creator)} cannot name a statement file.`, {
    hint: 'Creator ids are kebab-case (a-z, 0-9, single hyphens).',
    details: { creator },
  });
}
