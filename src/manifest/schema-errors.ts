/**
 * Ajv errors → findings a person can act on: plain sentences, a JSON pointer to the place
 * (the unknown key itself for unknown fields, the missing field for required ones),
 * "did you mean" suggestions, and oneOf/anyOf noise collapsed to the closest branch.
 */
import type { Finding } from '../shared/findings.js';
import { pointerEscape, pointerSegments } from './position.js';
import type { SchemaError } from './schema.js';
import { own } from '../shared/lookup.js';

export interface TranslatedFinding extends Finding {
  /** The position of this finding is the property's key, not its value. */
  atKey?: boolean;
}

/** Translates Ajv's errors into SCHEMA findings (no file, no position yet). */
export function translateSchemaErrors(errors: readonly SchemaError[]): TranslatedFinding[] {
  const kept = collapseAlternatives(errors);
  const findings: TranslatedFinding[] = [];
  const seen = new Set<string>();
  for (const err of kept) {
    // A failing propertyNames subschema reports twice: once for the name, once overall.
    if (err.propertyName !== undefined) continue;
    const f = translate(err);
    const key = `${f.pointer}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(f);
  }
  return findings;
}

/**
 * Keeps, for every oneOf/anyOf that failed, only the errors of its closest branch: the
 * branch whose errors reach deepest into the data, then the one with fewest errors.
 * The oneOf/anyOf error itself is dropped when a branch explains the failure.
 */
export function collapseAlternatives(errors: readonly SchemaError[]): SchemaError[] {
  let current = [...errors];
  const alternatives = current
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const alt of alternatives) {
    if (!current.includes(alt)) continue;
    const prefix = `${alt.schemaPath}/`;
    const branches = new Map<string, SchemaError[]>();
    for (const e of current) {
      if (!e.schemaPath.startsWith(prefix) || !e.instancePath.startsWith(alt.instancePath)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0]!;
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    if (branches.size === 0) continue;
    const score = (list: SchemaError[]) => ({
      depth: Math.max(...list.map((e) => pointerSegments(e.instancePath).length)),
      // A branch failing on the type of the value itself is the furthest from a match.
      typeMiss: list.some((e) => e.instancePath === alt.instancePath && (e.keyword === 'type' || e.keyword === 'const')),
      count: list.length,
    });
    const best = [...branches.values()].sort((a, b) => {
      const sa = score(a);
      const sb = score(b);
      if (sa.typeMiss !== sb.typeMiss) return sa.typeMiss ? 1 : -1;
      if (sa.depth !== sb.depth) return sb.depth - sa.depth;
      return sa.count - sb.count;
    })[0]!;
    const dropped = new Set([...branches.values()].flat().filter((e) => !best.includes(e)));
    dropped.add(alt);
    current = current.filter((e) => !dropped.has(e));
  }
  return current;
}

function translate(err: SchemaError): TranslatedFinding {
  const where = describePointer(err.instancePath);
  const Where = capitalise(where);
  const p = err.params;
  const base = { code: 'SCHEMA', severity: 'error' as const, pointer: err.instancePath };
  const hint = typeof err.parentSchema?.description === 'string' ? (err.parentSchema.description as string) : undefined;
  const withHint = (f: TranslatedFinding): TranslatedFinding => (hint && f.hint === undefined ? { ...f, hint } : f);
  switch (err.keyword) {
    case 'required': {
      const name = String(p.missingProperty);
      return {
        ...base,
        pointer: `${err.instancePath}/${pointerEscape(name)}`,
        message: `${Where} is missing the required field "${name}".`,
        ...describeProperty(err.parentSchema, name),
      };
    }
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const allowed = Object.keys((err.parentSchema?.properties as object | undefined) ?? {});
      const guess = closest(name, allowed);
      return {
        ...base,
        pointer: `${err.instancePath}/${pointerEscape(name)}`,
        atKey: true,
        message: guess
          ? `Unknown field "${name}" in ${where} — did you mean "${guess}"?`
          : `Unknown field "${name}" in ${where}.`,
        hint: allowed.length ? `Fields allowed here: ${allowed.join(', ')}.` : 'No other fields are allowed here.',
      };
    }
    case 'propertyNames': {
      const name = String(p.propertyName);
      const rule = (err.schema as { description?: string } | undefined)?.description;
      return {
        ...base,
        pointer: `${err.instancePath}/${pointerEscape(name)}`,
        atKey: true,
        message: `"${name}" is not a valid key in ${where}${rule ? ` (expected: ${rule.replace(/\.$/, '')})` : ''}.`,
      };
    }
    case 'type': {
      const expected = String(p.type)
        .split(',')
        .map((t) => own(TYPE_WORDS, t) ?? t)
        .join(' or ');
      return withHint({ ...base, message: `${Where} must be ${expected}, not ${describeValue(err.data)}.` });
    }
    case 'enum': {
      const options = (p.allowedValues as unknown[]).map((v) => JSON.stringify(v));
      const guess = typeof err.data === 'string' ? closest(err.data, (p.allowedValues as unknown[]).map(String)) : undefined;
      return {
        ...base,
        message: `${Where} is ${describeValue(err.data)}; it must be one of ${options.join(', ')}${guess ? ` — did you mean "${guess}"?` : '.'}`,
      };
    }
    case 'const':
      return { ...base, message: `${Where} must be ${JSON.stringify(p.allowedValue)}, not ${describeValue(err.data)}.` };
    case 'pattern': {
      const form = own(PATTERN_WORDS, String(p.pattern));
      return withHint({
        ...base,
        message: form
          ? `${Where} is ${describeValue(err.data)}, which is not ${form}.`
          : `${Where} is ${describeValue(err.data)}, which does not have the expected form (${String(p.pattern)}).`,
      });
    }
    case 'format':
      return withHint({
        ...base,
        message:
          p.format === 'date'
            ? `${Where} is ${describeValue(err.data)}, which is not a real calendar date written YYYY-MM-DD.`
            : `${Where} is ${describeValue(err.data)}, which is not a valid ${String(p.format)}.`,
      });
    case 'minLength':
    case 'maxLength': {
      const length = typeof err.data === 'string' ? [...err.data].length : undefined;
      const bound = err.keyword === 'minLength' ? 'at least' : 'at most';
      return withHint({
        ...base,
        message: `${Where} must be ${bound} ${plural(Number(p.limit), 'character')} long${length !== undefined ? ` (it has ${length})` : ''}.`,
      });
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'more than', exclusiveMaximum: 'less than' } as const;
      return withHint({
        ...base,
        message: `${Where} must be ${words[err.keyword]} ${String(p.limit)}, not ${describeValue(err.data)}.`,
      });
    }
    case 'minItems':
    case 'maxItems': {
      const count = Array.isArray(err.data) ? err.data.length : undefined;
      const bound = err.keyword === 'minItems' ? 'at least' : 'at most';
      return withHint({
        ...base,
        message: `${Where} must have ${bound} ${plural(Number(p.limit), 'item')}${count !== undefined ? ` (it has ${count})` : ''}.`,
      });
    }
    case 'uniqueItems': {
      const [first, second] = [Number(p.j), Number(p.i)].sort((a, b) => a - b);
      return {
        ...base,
        pointer: `${err.instancePath}/${second}`,
        message: `${Where} lists the same value twice (items ${first} and ${second}).`,
      };
    }
    case 'minProperties':
    case 'maxProperties': {
      const bound = err.keyword === 'minProperties' ? 'at least' : 'at most';
      return { ...base, message: `${Where} must have ${bound} ${plural(Number(p.limit), 'entry', 'entries')}.` };
    }
    case 'oneOf':
      return { ...base, message: `${Where} matches more than one of the allowed forms; it must match exactly one.` };
    case 'anyOf':
      return { ...base, message: `${Where} matches none of the allowed forms.` };
    default:
      return { ...base, message: `${Where} ${err.message ?? 'is invalid'}.` };
  }
}

function describeProperty(parent: Record<string, any> | undefined, name: string): { hint?: string } {
  const description = parent?.properties?.[name]?.description as unknown;
  return typeof description === 'string' ? { hint: `"${name}": ${description}` } : {};
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list (array)',
  null: 'null',
};

const KEBAB = '^[a-z0-9]+(?:-[a-z0-9]+)*$';
const PATTERN_WORDS: Record<string, string> = {
  [KEBAB]: 'lowercase kebab-case (letters a-z, digits and single hyphens, e.g. "ocean-creatures")',
  '^[A-Z]{3}$': 'a three-letter ISO 4217 currency code such as "USD"',
  '^[A-Z]{2}$': 'a two-letter ISO 3166-1 country code such as "GB"',
  '^\\d{4}-\\d{2}-\\d{2}$': 'a date written YYYY-MM-DD',
  '^[a-z][a-z0-9_-]{0,63}$': 'a feature id such as "sticker_book" (lowercase letters, digits, "_" and "-")',
  '^[a-z0-9]+(?:[-_][a-z0-9]+)*$': 'lowercase letters and digits joined by "-" or "_" (e.g. "sea-life")',
  '^[a-z0-9][a-z0-9._]*$': 'a Google Play product id (lowercase letters, digits, "_" and ".")',
  '^[A-Za-z0-9][A-Za-z0-9._-]*$': 'a product id (letters, digits, ".", "_" and "-")',
};
PATTERN_WORDS[
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$'
] = 'a semantic version such as "1.0.0"';

/** "/assets/2/id" → "assets[2].id"; "" → "the manifest". */
export function describePointer(pointer: string): string {
  const segments = pointerSegments(pointer);
  if (segments.length === 0) return 'the manifest';
  let out = '';
  for (const s of segments) {
    if (/^(0|[1-9]\d*)$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list (array)';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
      return JSON.stringify(shown);
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function capitalise(s: string): string {
  return s.startsWith('the ') ? `The ${s.slice(4)}` : s;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** The candidate nearest to `word` when it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue;
    // A difference in case only is the closest a typo gets.
    const d = levenshtein(lower, c.toLowerCase()) || (word === c ? 0 : 0.5);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && best !== word && bestDistance <= limit ? best : undefined;
}

/** Edit distance in UTF-16 code units: two rows of integers, reused. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = new Uint32Array(b.length + 1);
  let row = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, row] = [row, prev];
  }
  return prev[b.length]!;
}
