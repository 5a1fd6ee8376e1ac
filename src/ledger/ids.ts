/**
 * The one canonical form of the identifiers an import matches on: transaction ids (and
 * refund_of), consent_ref and family_ref, on every path (the CSV fast path, csv-parse,
 * JSON Lines, and every importer that builds sales rows). Two spellings of one id must
 * never become two transactions, nor two consents, nor two families.
 *
 * - Spaces and tabs around the cell are padding and are removed (as for every cell).
 * - Any other whitespace at either end (no-break space, ideographic space, …) is refused.
 * - Control characters (Unicode Cc), format characters (Cf: zero-width space U+200B,
 *   BOM U+FEFF, word joiner U+2060, bidi marks…), line and paragraph separators, any
 *   whitespace inside other than a plain space, and unpaired surrogates are refused.
 * - What remains is normalised to NFC, so a composed and a decomposed "é" are one id.
 * Refusals are ROW_INVALID naming the column and the code point.
 */
import { numberProblem, type Parsed } from './fields.js';

/** Leading or trailing spaces and tabs: cell padding. */
const PADDING = /^[ \t]+|[ \t]+$/g;
/** Characters no identifier holds: controls, format characters, lone surrogates, separators, whitespace other than U+0020. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]|(?! )\s/u;

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The id itself when it is already canonical printable ASCII (no padding, nothing to
 * normalise), else undefined: the allocation-free check of the import's fast path.
 */
export function plainId(value: unknown, maxLength = 200): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return undefined;
  if (value.charCodeAt(0) === 32 || value.charCodeAt(value.length - 1) === 32) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c > 126) return undefined;
  }
  return value;
}

/** An identifier cell in its canonical form, or the reason it has none. */
export function identifier(column: string, value: unknown, maxLength = 200): Parsed<string> {
  const bad = (message: string): Parsed<never> => ({ ok: false, problem: { column, code: 'ROW_INVALID', message } });
  const fast = plainId(value, maxLength);
  if (fast !== undefined) return { ok: true, value: fast };
  if (value === undefined || value === null) return bad(`${column} is empty.`);
  if (typeof value !== 'string' && typeof value !== 'number') return bad(`${column} must be text.`);
  if (typeof value === 'number') {
    const problem = numberProblem(column, value);
    if (problem) return problem;
  }
  const text = String(value).replace(PADDING, '');
  if (text === '') return bad(`${column} is empty.`);
  const edge = /^\s/.test(text) ? text[0]! : /\s$/.test(text) ? text.at(-1)! : undefined;
  if (edge !== undefined) {
    return bad(`${column} ${edge === text[0] ? 'starts' : 'ends'} with the invisible whitespace ${codePoint(edge)}; ids are compared exactly, so remove it.`);
  }
  const hidden = FORBIDDEN.exec(text);
  if (hidden) {
    return bad(`${column} holds ${codePoint(hidden[0])}, a control, format or whitespace character that makes one id look like another.`);
  }
  const nfc = text.normalize('NFC');
  if (nfc.length > maxLength) return bad(`${column} is longer than ${maxLength} characters.`);
  return { ok: true, value: nfc };
}

/** The same for an optional identifier: absent or empty is null. */
export function optionalIdentifier(column: string, value: unknown, maxLength = 200): Parsed<string | null> {
  if (value === undefined || value === null || value === '') return { ok: true, value: null };
  if (typeof value === 'string' && value.replace(PADDING, '') === '') return { ok: true, value: null };
  return identifier(column, value, maxLength);
}
