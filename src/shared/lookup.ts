/**
 * Lookups keyed by data. A name that comes from a manifest, a ledger row, a feed or a flag
 * is never used to index a plain object directly: `table["__proto__"]`, `table["constructor"]`
 * or `table["toString"]` would reach Object.prototype. Use a Map, or these helpers for the
 * few constant tables written as object literals.
 */

/** `table[key]` when `key` is one of the table's own properties; undefined otherwise. */
export function own<V>(table: Readonly<Record<string, V>>, key: unknown): V | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Sets `obj[key] = value` as an own, enumerable data property, whatever `key` is: a key of
 * "__proto__" becomes a property (as JSON.parse makes it), never the object's prototype.
 */
export function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
