// The CSV reader's plain path (quote-free text split by lines and commas) against csv-parse
// itself: for any text, the same records with the same row numbers, or an error for both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readChunks, type SourceRecord } from '../../src/ledger/records.js';
import { tempDir } from '../helpers/cli.js';
import { mulberry32 as rng } from '../helpers/random.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

const SPEC = { required: ['a', 'b', 'c'], optional: [] };

async function readAll(text: string | Buffer, readSize: number): Promise<SourceRecord[] | { error: string }> {
  const file = join(tmp.dir, 'in.csv');
  writeFileSync(file, text);
  const out: SourceRecord[] = [];
  try {
    for await (const chunk of readChunks(file, { format: 'csv', columns: SPEC, chunkSize: 3, readSize })) out.push(...chunk);
  } catch (err) {
    return { error: (err as { code: string }).code };
  }
  return out;
}

/** What csv-parse, with the options the importer used before the plain path, makes of the text. */
function reference(text: string | Buffer): Array<{ row: number; cells: string[] }> | { error: string } {
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: false });
  } catch {
    return { error: 'CSV_MALFORMED' };
  }
  if (records.length === 0) return { error: 'IMPORT_HEADER' };
  return records.slice(1).map((cells, i) => ({ row: i + 2, cells }));
}

function shape(r: SourceRecord[] | { error: string }) {
  return 'error' in r ? r : r.map((x) => ({ row: x.row, cells: x.cells }));
}


describe('readChunks (CSV)', () => {
  it('reads spreadsheet-style text as csv-parse does: BOM, CRLF, empty lines, short and long rows, quoted fields, no final newline', async () => {
    const cases = [
      '\uFEFFa,b,c\r\n1,2,3\r\n\r\n4,5\r\n6,7,8,9',
      'a,b,c\n1,2,3\n\n\n4,"5,5",6\n7,8,9\n',
      'a,b,c\n1,2,3\n4,"five\nlines",6\n7,8,9',
      'a,b,c\r\n1,2,3\n4,5,6\r\n',
      'a,b,c\n1,2,3\r\n4,5,6\n',
      'a,b,c\r1,2,3\r4,5,6\r',
      'a,b,c',
      'a,b,c\n',
      '\uFEFF',
      '',
      ' a ,b,c\n  ,,\n',
      'a,b,c\n1,2,"3\n',
      'a,b,c\n1,2,"3"x\n4,5,6\n',
      'a,b,c\n1,2,3\n4,5,6"\n',
    ];
    for (const text of cases) {
      for (const readSize of [1, 2, 5, 1 << 20]) {
        expect(shape(await readAll(text, readSize)), `${JSON.stringify(text)} read ${readSize} bytes at a time`).toEqual(reference(text));
      }
    }
  });

  it('matches csv-parse on random text, read in random-sized pieces (multi-byte characters split across reads)', async () => {
    const next = rng(20261126);
    const atoms = ['x', 'yz', '1', ',', ',', ',', '\n', '\n', '\r\n', '\r', '"', '""', ' ', 'é', '€', '😀', '', 'abcdefghijklmnop'];
    for (let n = 0; n < 150; n++) {
      let body = '';
      const len = Math.floor(next() * 60);
      // Most cases quote-free (the plain path); some with quotes (csv-parse from that block on).
      const pool = n % 3 === 0 ? atoms : atoms.filter((a) => !a.includes('"'));
      for (let i = 0; i < len; i++) body += pool[Math.floor(next() * pool.length)]!;
      const text = `${n % 5 === 0 ? '\uFEFF' : ''}a,b,c${n % 2 ? '\r\n' : '\n'}${body}`;
      const readSize = 1 + Math.floor(next() * 7);
      expect(shape(await readAll(text, readSize)), `${JSON.stringify(text)} read ${readSize} bytes at a time`).toEqual(reference(text));
    }
  });
});
