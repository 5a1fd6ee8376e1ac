/**
 * Values from data shown in messages. One formatter for every message that quotes a value
 * (a cell, a field): depth and length are bounded before anything is formatted, so a
 * hostile value (an array nested 100,000 deep, a 100 MB string) can neither overflow the
 * stack nor flood the terminal. Never throws.
 */

/** Containers deeper than this are shown as `[…]` / `{…}`. */
export const PREVIEW_MAX_DEPTH = 4;
/** Longest preview, in UTF-16 code units (an ellipsis marks a cut). */
export const PREVIEW_MAX_LENGTH = 120;
/** Items of an array or object shown before `…`. */
const PREVIEW_MAX_ITEMS = 8;

export interface PreviewOptions {
  maxDepth?: number;
  maxLength?: number;
}

/** A short JSON-like text for `value`: bounded depth, items and length. */
export function previewValue(value: unknown, options: PreviewOptions = {}): string {
  const maxDepth = options.maxDepth ?? PREVIEW_MAX_DEPTH;
  const maxLength = options.maxLength ?? PREVIEW_MAX_LENGTH;
  // Each level adds at least two characters, so no more than maxLength levels can show.
  const text = preview(value, Math.min(maxDepth, maxLength), maxLength + 1);
  return text.length > maxLength ? `${text.slice(0, Math.max(0, maxLength - 1))}…` : text;
}

function preview(value: unknown, depth: number, budget: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'object':
      break;
    default:
      return `[${typeof value}]`;
  }
  const isArray = Array.isArray(value);
  if (depth <= 0) return isArray ? '[…]' : '{…}';
  const parts: string[] = [];
  let used = 2;
  let more = false;
  const add = (part: string): boolean => {
    parts.push(part);
    used += part.length + 1;
    return used < budget && parts.length < PREVIEW_MAX_ITEMS;
  };
  if (isArray) {
    const arr = value as unknown[];
    for (let i = 0; i < arr.length; i++) {
      if (!add(preview(arr[i], depth - 1, budget - used))) {
        more = i < arr.length - 1;
        break;
      }
    }
    return `[${parts.join(',')}${more ? ',…' : ''}]`;
  }
  const keys = Object.keys(value as object);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = (value as Record<string, unknown>)[k];
    if (!add(`${preview(k, 0, budget - used)}:${preview(v, depth - 1, budget - used)}`)) {
      more = i < keys.length - 1;
      break;
    }
  }
  return `{${parts.join(',')}${more ? ',…' : ''}}`;
}

/**
 * True when `value` nests arrays or objects deeper than `max` (an explicit stack: a value
 * nested a million deep is walked without recursion).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child, d: d + 1 });
    }
  }
  return false;
}

/**
 * JSON for storing or printing a value from data: the value itself when it nests at most
 * `maxDepth` deep, else its bounded preview as a JSON string (JSON.stringify recurses and
 * would overflow the stack on hostile nesting).
 */
export function boundedJson(value: unknown, maxDepth = 64): string {
  if (nestedDeeperThan(value, maxDepth)) return JSON.stringify(previewValue(value));
  return JSON.stringify(value) ?? 'null';
}
