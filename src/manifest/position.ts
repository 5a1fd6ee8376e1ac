/**
 * Positions in a JSON text: JSON pointer → line and column, and the place of a syntax
 * error. Loaded only when there is something to report, so the fast path (JSON.parse and
 * the precompiled validator) never pays for a position-keeping parse.
 */
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { Finding } from '../shared/findings.js';

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

/**
 * Locates findings in `text`: a finding with a pointer gets the line and column of the
 * value there; when the pointer names a property that is not there (a missing required
 * field), the nearest existing ancestor is used. Findings that already have a position
 * keep it. Returns the same array for chaining.
 */
export function locateFindings(text: string, findings: Finding[], keyPointers: ReadonlySet<Finding> = new Set()): Finding[] {
  if (!findings.some((f) => f.pointer !== undefined && f.line === undefined)) return findings;
  const root = parseTree(text, [], STRICT);
  if (!root) return findings;
  for (const f of findings) {
    if (f.pointer === undefined || f.line !== undefined) continue;
    const node = nodeAt(root, pointerSegments(f.pointer), keyPointers.has(f));
    if (node) Object.assign(f, lineColumn(text, node.offset));
  }
  return findings;
}

/**
 * The node at a pointer (walked by hand: object keys are compared as strings, array
 * segments as indexes); the nearest ancestor when the path stops early. With `key`, the
 * property's key rather than its value.
 */
function nodeAt(root: Node, segments: string[], key: boolean): Node {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    let next: Node | undefined;
    if (node.type === 'object') {
      // The last property of a name wins, as in JSON.parse.
      const prop = node.children?.filter((p) => p.children?.[0]?.value === segment).pop();
      if (prop && key && i === segments.length - 1) return prop.children?.[0] ?? prop;
      next = prop?.children?.[1];
    } else if (node.type === 'array' && /^(0|[1-9]\d*)$/.test(segment)) {
      next = node.children?.[Number(segment)];
    }
    if (!next) return node;
    node = next;
  }
  return node;
}

/** Where and why JSON.parse failed, in words (only called after it failed). */
export function describeSyntaxError(text: string): { message: string; hint?: string; at?: LineColumn } {
  const errors: ParseError[] = [];
  parseTree(text, errors, STRICT);
  const first = errors[0];
  if (!first) return { message: 'the text is not a JSON document' };
  const at = lineColumn(text, first.offset);
  const what = SYNTAX_WORDS[printParseErrorCode(first.error)] ?? printParseErrorCode(first.error);
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
