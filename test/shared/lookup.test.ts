import { describe, expect, it } from 'vitest';
import { own, setOwn } from '../../src/shared/lookup.js';
import { stableJson } from '../../src/archive/integrity.js';

describe('lookups keyed by data', () => {
  const table = { a: 1, b: 2 } as Record<string, number>;
  it('finds own keys only', () => {
    expect(own(table, 'a')).toBe(1);
    for (const k of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'c', 1, undefined, null]) expect(own(table, k)).toBeUndefined();
  });
  it('sets "__proto__" as a property, never the prototype', () => {
    const o: Record<string, unknown> = {};
    setOwn(o, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(JSON.stringify(o)).toBe('{"__proto__":{"polluted":true}}');
  });
  it('stableJson keeps a "__proto__" key it is given', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"x":1}}');
    expect(stableJson(parsed)).toBe('{\n  "__proto__": {\n    "x": 1\n  },\n  "b": 1\n}\n');
  });
});
