/**
 * The store-report reader splits well-formed lines itself (src/stores/csv-lines.ts) and
 * hands everything else to csv-parse: whatever the text and however it is cut into chunks,
 * it must give exactly the records (and line numbers) csv-parse alone gives, and refuse
 * exactly the texts csv-parse refuses.
 */
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitLine } from '../../src/stores/csv-lines.js';
import { readRecords } from '../../src/stores/source.js';

async function* pieces(text: string, cuts: number[]): AsyncGenerator<string> {
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c > at && c < text.length) {
      yield text.slice(at, c);
      at = c;
    }
  }
  yield text.slice(at);
}

async function ours(text: string, cuts: number[], delimiter: ',' | '\t' = ',', quote = true) {
  const out: Array<{ line: number; cells: string[] }> = [];
  try {
    for await (const b of readRecords(pieces(text, cuts), { delimiter, quote, label: 't' })) out.push(...b);
    return { records: out };
  } catch (err) {
    return { error: (err as { code?: string }).code };
  }
}

/** csv-parse alone, as the reader used it before: lines from its own count (exact for LF-only text). */
function reference(text: string, delimiter: ',' | '\t' = ',', quote = true) {
  try {
    const records = parse(text, {
      delimiter,
      quote: quote ? '"' : false,
      relax_column_count: true,
      relax_quotes: false,
      skip_empty_lines: true,
      on_record: (cells: string[], ctx: { lines: number }) => ({ line: ctx.lines - cells.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0), cells }),
    } as never) as unknown as Array<{ line: number; cells: string[] }>;
    return { records };
  } catch (err) {
    const code = (err as { code: string }).code;
    return { error: code === 'CSV_QUOTE_NOT_CLOSED' ? 'REPORT_TRUNCATED' : 'CSV_MALFORMED' };
  }
}

const lfText = fc.array(fc.constantFrom('a', 'b', ',', '"', ' ', '\n', '\n', 'é'), { maxLength: 60 }).map((cs) => cs.join(''));
const cuts = fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 4 });

describe('store report lines', () => {
  it('splits a well-formed line as csv-parse does and leaves the rest to it', () => {
    expect(splitLine('GPA.1,"Dec 23, 2024",1:20:34 PM PST,"say ""hi""",', ',', true)).toEqual(['GPA.1', 'Dec 23, 2024', '1:20:34 PM PST', 'say "hi"', '']);
    expect(splitLine('"",x', ',', true)).toEqual(['', 'x']);
    expect(splitLine('a"b,c', ',', true)).toBeUndefined();
    expect(splitLine('"a"b,c', ',', true)).toBeUndefined();
    expect(splitLine('"open,c', ',', true)).toBeUndefined();
    expect(splitLine('a\r', ',', true)).toBeUndefined();
    expect(splitLine('"x\t y ', '\t', false)).toEqual(['"x', ' y ']);
  });

  it('gives csv-parse\'s records, line numbers and refusals for any LF text, cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(lfText, cuts, async (text, at) => {
        expect(await ours(text, at)).toEqual(reference(text));
      }),
      { numRuns: 400 },
    );
  });

  it('gives csv-parse\'s records and refusals for CRLF text (and its line numbers, counting a quoted CRLF once)', async () => {
    await fc.assert(
      fc.asyncProperty(lfText, cuts, async (text, at) => {
        const crlf = text.replace(/\n/g, '\r\n');
        const got = await ours(crlf, at);
        const want = reference(text); // the same text with LF: the same records, with CRLF inside quotes
        if ('error' in want) expect(got).toHaveProperty('error');
        else expect(got).toEqual({ records: want.records!.map((r) => ({ line: r.line, cells: r.cells.map((c) => c.replace(/\n/g, '\r\n')) })) });
      }),
      { numRuns: 300 },
    );
  });

  it('reads Apple tab files (no quoting) and a CR-only file through csv-parse', async () => {
    const tabs = 'a\tb\n"x\t y \n\nTotal_Rows\t1\n';
    expect(await ours(tabs, [3, 9], '\t', false)).toEqual(reference(tabs, '\t', false));
    expect(await ours('a,b\r"c\rd",e\r\rf', [2])).toEqual({ records: [{ line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['c\rd', 'e'] }, { line: 5, cells: ['f'] }] });
  });

  it('names the line of a broken quote after lines read directly', async () => {
    const got = await ours('a,b\nc,d\ne,"f"g\n', []);
    expect(got).toEqual({ error: 'CSV_MALFORMED' });
    let message = '';
    try {
      for await (const _ of readRecords(pieces('a,b\nc,d\ne,"f"g\n', []), { delimiter: ',', quote: true, label: 't' })) void _;
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/line 3\b/);
  });
});
