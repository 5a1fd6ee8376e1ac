import { describe, expect, it } from 'vitest';
import { boundedJson, nestedDeeperThan, previewValue } from '../../src/shared/format.js';

describe('previewValue', () => {
  it('shows plain values as JSON', () => {
    expect(previewValue('abc')).toBe('"abc"');
    expect(previewValue(12)).toBe('12');
    expect(previewValue(null)).toBe('null');
    expect(previewValue({ a: [1, 2], b: 'x' })).toBe('{"a":[1,2],"b":"x"}');
  });

  it('bounds depth, items and length', () => {
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(previewValue(deep)).toBe('[[[[[…]]]]]');
    expect(previewValue(Array.from({ length: 100 }, (_, i) => i))).toBe('[0,1,2,3,4,5,6,7,…]');
    const long = previewValue('x'.repeat(10_000_000));
    expect(long.length).toBe(120);
    expect(long.endsWith('…')).toBe(true);
  });

  it('walks nesting without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { k: deep };
    expect(nestedDeeperThan(deep, 64)).toBe(true);
    expect(nestedDeeperThan({ a: [[1]] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [[1]] }, 2)).toBe(true);
    expect(JSON.parse(boundedJson(deep))).toMatch(/^\{"k":\{"k":/);
    expect(boundedJson({ a: 1 })).toBe('{"a":1}');
  });
});
