// toPlain (payouts/report.ts) and Output.writeJson turn report values into JSON without a
// JSON round trip / replacer pass where none is needed; they must give exactly what the
// round trip gave: every bigint a number, undefined and functions left out (null in arrays),
// non-finite numbers null, a "__proto__" key kept as data, a Date as its ISO text.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonReplacer, Output } from '../../src/cli/output.js';
import { toPlain } from '../../src/payouts/report.js';

const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v, jsonReplacer));

function tricky(): Record<string, unknown> {
  const withProto = JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}') as Record<string, unknown>;
  return {
    netMinor: 123n,
    negative: -9007199254740991n,
    lines: [{ pack: 'p', cents: 5n, amountsUnknown: undefined }, undefined, () => 1, 7, 'x', null, true],
    nested: { deeper: { values: [1n, 2n, [3n]] }, skip: undefined, fn: () => 2 },
    notFinite: [Number.NaN, Number.POSITIVE_INFINITY],
    when: new Date(Date.UTC(2026, 9, 1)),
    byId: withProto,
    empty: {},
    list: [],
  };
}

describe('toPlain', () => {
  it('gives what a JSON round trip gives, key order included', () => {
    const value = tricky();
    const plain = toPlain(value);
    expect(JSON.stringify(plain)).toBe(JSON.stringify(viaJson(value)));
    expect(plain).toEqual(viaJson(value));
    // The "__proto__" key is an own data property, and no prototype was touched.
    const byId = (plain as unknown as { byId: Record<string, unknown> }).byId;
    expect(Object.keys(byId)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(byId)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses an amount a JSON number cannot hold exactly, with a stable code (exit 3)', () => {
    expect(() => toPlain({ x: 9007199254740992n })).toThrow(expect.objectContaining({ code: 'MONTH_TOTAL_TOO_LARGE', exitCode: 3 }));
    expect(() => toPlain([-9007199254740992n])).toThrow(expect.objectContaining({ code: 'MONTH_TOTAL_TOO_LARGE' }));
    expect(toPlain({ x: 9007199254740991n })).toEqual({ x: 9007199254740991 });
  });
});

describe('Output.writeJson', () => {
  function written(data: unknown): string {
    let text = '';
    const stdout = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    new Output({ json: true, quiet: false, verbose: false, color: false, stdout }).writeJson(data);
    return text;
  }

  it('prints bigints as numbers (strings past the safe range) and plain data unchanged', () => {
    const value = { ...tricky(), huge: 2n ** 70n };
    expect(written(value)).toBe(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
    expect(JSON.parse(written(value)).huge).toBe((2n ** 70n).toString());
    const plain = { a: [1, 'b', null], c: { d: true } };
    expect(written(plain)).toBe(`${JSON.stringify(plain, null, 2)}\n`);
  });
});
