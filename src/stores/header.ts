/**
 * Columns by header name: case-insensitive, trimmed, with the aliases the stores have used
 * over the years, never by position. A header that lacks a required column is
 * REPORT_FORMAT_UNKNOWN, naming the headers that were expected.
 */
import { inputError } from '../shared/errors.js';

export interface ColumnDef<K extends string> {
  key: K;
  /** Header spellings, the first one the canonical name. */
  names: readonly string[];
  required: boolean;
}

export type ColumnIndex<K extends string> = Record<K, number>;

function norm(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Indexes of each column in `header`, or undefined when a required one is missing. */
export function matchHeader<K extends string>(header: readonly string[], defs: ReadonlyArray<ColumnDef<K>>): ColumnIndex<K> | undefined {
  const at = new Map<string, number>();
  header.forEach((h, i) => {
    const n = norm(h.replace(/^\uFEFF/, ''));
    if (!at.has(n)) at.set(n, i);
  });
  const index = Object.create(null) as ColumnIndex<K>;
  for (const def of defs) {
    let found = -1;
    for (const name of def.names) {
      const i = at.get(norm(name));
      if (i !== undefined) {
        found = i;
        break;
      }
    }
    if (found < 0 && def.required) return undefined;
    index[def.key] = found;
  }
  return index;
}

export function requiredNames(defs: ReadonlyArray<ColumnDef<string>>): string[] {
  return defs.filter((d) => d.required).map((d) => d.names.join(' | '));
}

export function formatUnknown(label: string, what: string, expected: string[], found: readonly string[], extra = ''): never {
  const shown = found.slice(0, 30).map((h) => h.trim()).join(', ');
  throw inputError('REPORT_FORMAT_UNKNOWN', `${label} is not ${what}${extra}; nothing was imported.`, {
    hint: `Expected a header with: ${expected.join(', ')}. Found: ${shown || '(nothing)'}.`,
    details: { file: label, expected, found: found.slice(0, 100) },
  });
}
