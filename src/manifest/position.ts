/**
 * Positions in a JSON text: JSON pointer → line and column, and the place of a syntax
 * error. Loaded only when there is something to report, so the fast path (JSON.parse and
 * the precompiled validator) never pays for a position-keeping parse.
 *
 * Pointers are located with a small single-pass scanner that relies on the text being
 * valid JSON (JSON.parse accepted it); syntax errors are described with jsonc-parser.
 */
import type { ParseError } from 'jsonc-parser';
import type { Finding } from '../shared/findings.js';
import { own } from '../shared/lookup.js';

export interface LineColumn {
  line: number;
  column: number;
}

/** 1-based line and column (in UTF-16 code units, as editors count) of an offset. */
export function lineColumn(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * `lineColumn` for many offsets of one text: the line starts are found once (one native
 * search per line), then each offset costs a binary search. Locating n findings in a text
 * of m characters is O(m + n log m), not O(n·m).
 */
export function lineLocator(text: string): (offset: number) => LineColumn {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset: number): LineColumn => {
    const at = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}

/** Splits an RFC 6901 pointer into its segments ("" is the root). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Escapes one segment for a JSON pointer. */
export function pointerEscape(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

const STRICT = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false } as const;

/** Where a value (and, for a property, its key) starts in the text. */
interface Place {
  value: number;
  key?: number;
}

/**
 * Locates findings in `text` (valid JSON): a finding with a pointer gets the line and
 * column of the value there, or of the property's key for findings in `keyPointers`
 * (unknown fields); a pointer to a property that is not there (a missing required field)
 * gets its nearest existing ancestor. Findings that already have a position keep it.
 * Returns the same array for chaining.
 */
export function locateFindings(text: string, findings: Finding[], keyPointers: ReadonlySet<Finding> = new Set()): Finding[] {
  if (!findings.some((f) => f.pointer !== undefined && f.line === undefined)) return findings;
  // Only the findings' pointers and their ancestors are ever looked up: the scan skips every
  // other container whole instead of indexing each value in it.
  const wanted = new Set<string>();
  for (const f of findings) {
    if (f.pointer === undefined || f.line !== undefined) continue;
    for (let p = f.pointer; !wanted.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      wanted.add(p);
      if (p === '') break;
    }
  }
  const places = indexPointers(text, wanted);
  const locate = lineLocator(text);
  for (const f of findings) {
    if (f.pointer === undefined || f.line !== undefined) continue;
    let pointer = f.pointer;
    let place = places.get(pointer);
    while (!place && pointer !== '') {
      pointer = pointer.slice(0, pointer.lastIndexOf('/'));
      place = places.get(pointer);
    }
    if (!place) continue;
    const offset = keyPointers.has(f) && pointer === f.pointer && place.key !== undefined ? place.key : place.value;
    Object.assign(f, locate(offset));
  }
  return findings;
}

/**
 * Every value's JSON pointer and offsets, in one pass over a valid JSON text. With a
 * repeated key the last one wins, as in JSON.parse. With `wanted`, only those pointers are
 * indexed, and a container whose pointer is not wanted is skipped whole (its values' pointers
 * all start with its own, so none of them can be wanted).
 */
export function indexPointers(text: string, wanted?: ReadonlySet<string>): Map<string, Place> {
  const places = new Map<string, Place>();
  // Per open container: its pointer, whether it is an array, the next index, the pending key.
  const stack: Array<{ pointer: string; array: boolean; index: number; key?: string; keyAt?: number }> = [];
  const n = text.length;
  let i = 0;
  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const stringEnd = (start: number): number => {
    let j = start + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j += 2;
      else if (c === 0x22) return j + 1;
      else j++;
    }
    return j;
  };
  /** The offset just past the object or array that opens at `start`. */
  const containerEnd = (start: number): number => {
    let depth = 0;
    let j = start;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        j = stringEnd(j);
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) return j + 1;
      j++;
    }
    return j;
  };
  /** The pointer of a value starting now; registers its place when it is wanted. */
  const enter = (): string => {
    const top = stack[stack.length - 1];
    let pointer = '';
    let key: number | undefined;
    if (top) {
      const segment = top.array ? String(top.index++) : (top.key ?? '');
      pointer = `${top.pointer}/${pointerEscape(segment)}`;
      key = top.array ? undefined : top.keyAt;
    }
    if (wanted === undefined || wanted.has(pointer)) places.set(pointer, key === undefined ? { value: i } : { value: i, key });
    return pointer;
  };
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */ || c === 0x3a /* : */) {
      i++;
    } else if (top && !top.array && top.key === undefined) {
      // A key: decoded by JSON.parse when it has escapes, so \u005f counts as what it means.
      const end = stringEnd(i);
      const raw = text.slice(i + 1, end - 1);
      top.key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
      top.keyAt = i;
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const pointer = enter();
      if (top && !top.array) top.key = undefined;
      if (wanted !== undefined && !wanted.has(pointer)) i = containerEnd(i);
      else {
        stack.push({ pointer, array: c === 0x5b, index: 0 });
        i++;
      }
    } else {
      enter();
      if (top && !top.array) top.key = undefined;
      if (c === 0x22 /* " */) i = stringEnd(i);
      else {
        // A number, true, false or null runs to the next space, comma or closing bracket.
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09 || d === 0x2c || d === 0x5d || d === 0x7d) break;
          i++;
        }
      }
    }
  }
  return places;
}

/** Where and why JSON.parse failed, in words (only called after it failed). */
export async function describeSyntaxError(text: string): Promise<{ message: string; hint?: string; at?: LineColumn }> {
  const { parseTree, printParseErrorCode } = await import('jsonc-parser');
  const errors: ParseError[] = [];
  parseTree(text, errors, STRICT);
  const first = errors[0];
  if (!first) return { message: 'the text is not a JSON document' };
  const at = lineColumn(text, first.offset);
  const what = own(SYNTAX_WORDS, printParseErrorCode(first.error)) ?? printParseErrorCode(first.error);
  const hint = /Comma|Comment/.test(printParseErrorCode(first.error))
    ? 'JSON allows neither comments nor a comma after the last item.'
    : undefined;
  return { message: `${what} at line ${at.line}, column ${at.column}`, ...(hint ? { hint } : {}), at };
}

const SYNTAX_WORDS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":" after the property name',
  CommaExpected: 'expected "," between items',
  CloseBraceExpected: 'expected "}" to close the object',
  CloseBracketExpected: 'expected "]" to close the array',
  EndOfFileExpected: 'unexpected text after the end of the document',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unfinished comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unfinished number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character in a string',
  InvalidCharacter: 'control character in a string',
};
