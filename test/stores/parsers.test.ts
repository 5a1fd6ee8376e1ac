import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalToMinor, splitEqually } from '../../src/stores/amounts.js';
import { pacificDayEnd, pacificDayStart, pacificOffsetMinutes, pacificToUtc } from '../../src/stores/pacific.js';
import { decodeText, readRecords, reportParts } from '../../src/stores/source.js';
import { GoogleHeader, baseOrderId, cellAt, checkTx, googleTime, lastLineCutShort, parseGoogleRow, type GoogleRow } from '../../src/stores/googleplay.js';
import { TxWindow } from '../../src/stores/googleplay-window.js';
import { AppleReportReader } from '../../src/stores/appstore.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('Pacific time', () => {
  it('knows PST and PDT from the time-zone data, across both 2026 switches', () => {
    expect(pacificOffsetMinutes(Date.parse('2026-01-15T12:00:00Z'))).toBe(-480);
    expect(pacificOffsetMinutes(Date.parse('2026-07-15T12:00:00Z'))).toBe(-420);
    // 2026-03-08 02:00 PST → 03:00 PDT (10:00 UTC); 2026-11-01 02:00 PDT → 01:00 PST (09:00 UTC).
    expect(pacificOffsetMinutes(Date.parse('2026-03-08T09:59:59Z'))).toBe(-480);
    expect(pacificOffsetMinutes(Date.parse('2026-03-08T10:00:00Z'))).toBe(-420);
    expect(pacificOffsetMinutes(Date.parse('2026-11-01T08:59:59Z'))).toBe(-420);
    expect(pacificOffsetMinutes(Date.parse('2026-11-01T09:00:00Z'))).toBe(-480);
  });

  it('tells the repeated hour of November apart by PDT/PST', () => {
    const wall = { year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 };
    expect(pacificToUtc(wall, 'PDT')).toEqual({ ok: true, ms: Date.parse('2026-11-01T08:30:00Z') });
    expect(pacificToUtc(wall, 'PST')).toEqual({ ok: true, ms: Date.parse('2026-11-01T09:30:00Z') });
  });

  it('refuses a zone Los Angeles was not on, and the skipped hour of March', () => {
    expect(pacificToUtc({ year: 2026, month: 7, day: 1, hour: 10, minute: 0, second: 0 }, 'PST').ok).toBe(false);
    expect(pacificToUtc({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }).ok).toBe(false);
    expect(pacificToUtc({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, 'PDT').ok).toBe(false);
  });

  it('gives Pacific day bounds (a day of 23 and of 25 hours)', () => {
    expect(iso(pacificDayStart(2026, 10, 31))).toBe('2026-10-31T07:00:00.000Z');
    expect(iso(pacificDayEnd(2026, 11, 1))).toBe('2026-11-02T08:00:00.000Z');
    expect(pacificDayEnd(2026, 11, 1) - pacificDayStart(2026, 11, 1)).toBe(25 * 3600_000);
    expect(pacificDayEnd(2026, 3, 8) - pacificDayStart(2026, 3, 8)).toBe(23 * 3600_000);
  });

  it('reads Google dates and times, month-end near midnight included', () => {
    const t = googleTime('Oct 31, 2026', '5:30:00 PM PDT');
    expect(t.ok && iso(t.ms)).toBe('2026-11-01T00:30:00.000Z');
    expect(t.ok && t.pacificMonth).toBe('2026-10');
    const noon = googleTime('Dec 3, 2026', '12:00:00 PM PST');
    expect(noon.ok && iso(noon.ms)).toBe('2026-12-03T20:00:00.000Z');
    const midnight = googleTime('Dec 3, 2026', '12:00:00 AM PST');
    expect(midnight.ok && iso(midnight.ms)).toBe('2026-12-03T08:00:00.000Z');
    expect(googleTime('Feb 30, 2026', '1:00:00 AM PST').ok).toBe(false);
    expect(googleTime('2026-10-01', '1:00:00 AM PST').ok).toBe(false);
    expect(googleTime('Oct 1, 2026', '13:00:00 PM PDT').ok).toBe(false);
    expect(googleTime('Oct 1, 2026', '1:00:00 PM CET').ok).toBe(false);
  });

  it('gives, time after time (times of day are remembered), what reading each date and time afresh gives', () => {
    // The reading before times of day were remembered, field for field, message for message.
    const fresh = (date: string, time: string) => {
      const d = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4})$/.exec(date);
      const month = d ? ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(d[1]!.toLowerCase()) + 1 : 0;
      if (!d || month === 0) return { ok: false, message: `Transaction Date "${date}" is not a date like "Dec 23, 2024"` };
      const [day, year] = [Number(d[2]), Number(d[3])];
      const check = new Date(Date.UTC(year, month - 1, day));
      if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return { ok: false, message: `Transaction Date "${date}" is not a real date` };
      const t = /^(\d{1,2}):(\d{2}):(\d{2}) ?([AaPp][Mm]) ([A-Za-z]{3})$/.exec(time);
      if (!t) return { ok: false, message: `Transaction Time "${time}" is not a time like "1:20:34 PM PST"` };
      let hour = Number(t[1]);
      const [minute, second] = [Number(t[2]), Number(t[3])];
      if (hour < 1 || hour > 12 || minute > 59 || second > 59) return { ok: false, message: `Transaction Time "${time}" is not a real time` };
      const pm = t[4]!.toLowerCase() === 'pm';
      hour = hour === 12 ? (pm ? 12 : 0) : pm ? hour + 12 : hour;
      const r = pacificToUtc({ year, month, day, hour, minute, second }, t[5]!);
      if (!r.ok) return { ok: false, message: `"${date} ${time}": ${r.message}` };
      return { ok: true, ms: r.ms, pacificMonth: `${year}-${String(month).padStart(2, '0')}` };
    };
    const date = fc.constantFrom('Mar 8, 2026', 'Nov 1, 2026', 'Oct 31, 2026', 'Feb 30, 2026', 'October 5, 2026', 'oct 5, 2026', '2026-10-05');
    const time = fc.tuple(fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 60 }), fc.constantFrom('', ' '), fc.constantFrom('AM', 'PM', 'pm', 'XM'), fc.constantFrom('PST', 'PDT', 'pst', 'CET'))
      .map(([h, m, sp, ap, zone]) => `${h}:${String(m).padStart(2, '0')}:0${m % 10}${sp}${ap} ${zone}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(date, time), { minLength: 1, maxLength: 30 }), (pairs) => {
        // Twice over: the second pass reads every time of day from memory.
        for (const [d, t] of [...pairs, ...pairs]) expect(googleTime(d, t)).toEqual(fresh(d, t));
      }),
      { numRuns: 300 },
    );
  });
});

describe('amounts', () => {
  it('scales decimal strings exactly, JPY .00 included', () => {
    expect(decimalToMinor('-12.17', 2, 'EUR')).toEqual({ ok: true, minor: -1217 });
    expect(decimalToMinor('119.00', 0, 'JPY')).toEqual({ ok: true, minor: 119 });
    expect(decimalToMinor('179', 2, 'X')).toEqual({ ok: true, minor: 17900 });
    expect(decimalToMinor('.7', 2, 'USD')).toEqual({ ok: true, minor: 70 });
    expect(decimalToMinor('0.00', 2, 'USD')).toEqual({ ok: true, minor: 0 });
    expect(decimalToMinor('-0.00', 2, 'USD')).toEqual({ ok: true, minor: 0 });
    expect(decimalToMinor('119.50', 0, 'JPY').ok).toBe(false);
    expect(decimalToMinor('1.234', 2, 'USD').ok).toBe(false);
    expect(decimalToMinor('1,23', 2, 'USD').ok).toBe(false);
    expect(decimalToMinor('1e3', 2, 'USD').ok).toBe(false);
    expect(decimalToMinor('', 2, 'USD').ok).toBe(false);
    expect(decimalToMinor('-', 2, 'USD').ok).toBe(false);
  });

  it('gives every decimal text the exact value of its digits, or refuses it (any sign, digits, point, exponent)', () => {
    // The reference: exact BigInt arithmetic over the text's own digits.
    const reference = (text: string, exponent: number): number | undefined => {
      const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
      if (!m || (m[2] === '' && !m[3])) return undefined;
      const frac = m[3] ?? '';
      if (/[1-9]/.test(frac.slice(exponent))) return undefined;
      const scaled = BigInt((m[2] || '0') + frac.slice(0, exponent).padEnd(exponent, '0'));
      if (scaled.toString().length > 15) return undefined;
      const value = Number(scaled);
      return m[1] === '-' && value !== 0 ? -value : value;
    };
    const text = fc.tuple(
      fc.constantFrom('', '-', '+', '--'),
      fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), maxLength: 17, size: 'max' }),
      fc.constantFrom('', '.', '..', ','),
      fc.string({ unit: fc.constantFrom('0', '0', '3', '9', 'e'), maxLength: 5 }),
    );
    fc.assert(
      fc.property(text, fc.constantFrom(0, 2, 3), ([sign, int, point, frac], exponent) => {
        const t = `${sign}${int}${point}${point ? frac : ''}`;
        const r = decimalToMinor(t, exponent, 'XXX');
        const want = reference(t, exponent);
        expect(r.ok ? r.minor : undefined).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('splits by largest remainder: shares differ by at most one and sum exactly', () => {
    expect(splitEqually(1000, 3)).toEqual([334, 333, 333]);
    expect(splitEqually(-1000, 3)).toEqual([-334, -333, -333]);
    expect(splitEqually(0, 2)).toEqual([0, 0]);
    for (const [t, n] of [[1, 7], [99999, 13], [-5, 9]] as const) {
      const s = splitEqually(t, n);
      expect(s.reduce((a, b) => a + b, 0)).toBe(t);
      expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
    }
  });
});

async function collect(text: AsyncIterable<string>, delimiter: ',' | '\t', quote: boolean) {
  const out: Array<{ line: number; cells: string[] }> = [];
  for await (const b of readRecords(text, { delimiter, quote, label: 't' })) out.push(...b);
  return out;
}
async function* chunks(...bufs: Buffer[]): AsyncGenerator<Buffer> {
  for (const b of bufs) yield b;
}

describe('reading report text', () => {
  const csv = 'Description,Transaction Date\r\n"GPA.1","Dec 23, 2024"\r\n\r\n"GPA.2","multi\nline"\r\nGPA.3,x\r\n';

  it('decodes UTF-8 with and without BOM, UTF-16LE and UTF-16BE with BOM, alike', async () => {
    const variants = [
      Buffer.from(csv, 'utf8'),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv, 'utf8')]),
      iconv.encode(csv, 'utf16le', { addBOM: true }),
      iconv.encode(csv, 'utf16be', { addBOM: true }),
    ];
    for (const v of variants) {
      // Split at every odd byte so a code unit straddles chunks.
      const parts = [v.subarray(0, 1), v.subarray(1, 7), v.subarray(7)];
      const records = await collect(decodeText(chunks(...parts)), ',', true);
      expect(records).toEqual([
        { line: 1, cells: ['Description', 'Transaction Date'] },
        { line: 2, cells: ['GPA.1', 'Dec 23, 2024'] },
        { line: 4, cells: ['GPA.2', 'multi\nline'] },
        { line: 6, cells: ['GPA.3', 'x'] },
      ]);
    }
  });

  it('reads Apple tab files without quoting (a quote is just a character)', async () => {
    const r = await collect(decodeText(chunks(Buffer.from('a\tb\n"x\t y \nTotal_Rows\t1\n'))), '\t', false);
    expect(r).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['"x', ' y '] },
      { line: 3, cells: ['Total_Rows', '1'] },
    ]);
  });

  it('reports an unclosed quote (a truncated CSV) as REPORT_TRUNCATED', async () => {
    await expect(collect(decodeText(chunks(Buffer.from('a,b\n"x,'))), ',', true)).rejects.toMatchObject({ code: 'REPORT_TRUNCATED' });
  });

  it('opens .gz and caps what it unpacks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'packops-src-'));
    const gz = join(dir, 'r.txt.gz');
    writeFileSync(gz, gzipSync(Buffer.from('hello\n')));
    const parts = [];
    for await (const p of reportParts(gz, () => true)) {
      const bufs: Buffer[] = [];
      for await (const c of p.chunks) bufs.push(c);
      parts.push({ name: p.name, text: Buffer.concat(bufs).toString() });
    }
    expect(parts).toEqual([{ name: 'r.txt', text: 'hello\n' }]);
    const bomb = join(dir, 'bomb.gz');
    writeFileSync(bomb, gzipSync(Buffer.alloc(4 << 20)));
    await expect(
      (async () => {
        for await (const p of reportParts(bomb, () => true, { maxBytes: 1 << 30, maxRatio: 100, maxEntries: 10, maxRecord: 1000 })) for await (const _ of p.chunks) void _;
      })(),
    ).rejects.toMatchObject({ code: 'ZIP_BOMB' });
    const cut = join(dir, 'cut.gz');
    writeFileSync(cut, gzipSync(Buffer.from('x'.repeat(10000))).subarray(0, 20));
    await expect(
      (async () => {
        for await (const p of reportParts(cut, () => true)) for await (const _ of p.chunks) void _;
      })(),
    ).rejects.toMatchObject({ code: 'REPORT_TRUNCATED' });
  });
});

const GOOGLE_HEADER =
  'Description,Transaction Date,Transaction Time,Tax Type,Transaction Type,Refund Type,Product Title,Product id,Product Type,Sku Id,Hardware,Buyer Country,Buyer State,Buyer Postal Code,Buyer Currency,Amount (Buyer Currency),Currency Conversion Rate,Merchant Currency,Amount (Merchant Currency)'.split(',');

function gRow(order: string, type: string, amount: string, time = '1:20:34 PM PDT', date = 'Oct 3, 2026'): string[] {
  return [order, date, time, '', type, '', 'Ocean', 'com.wondernest.app', '1', 'pack_ocean', 'a15', 'US', '', '', 'USD', amount, '1.000000', 'USD', amount];
}

describe('Google Play earnings rows', () => {
  it('trims a cell exactly as String.prototype.trim does (the untrimmed case returned as it is)', () => {
    const char = fc.constantFrom('a', 'Z', '1', '-', '"', ' ', '\t', '\u00a0', '\u3000', '\ufeff', '\u2028', '\u0001', '\u007f', 'é', '\n');
    fc.assert(
      fc.property(fc.array(fc.array(char, { maxLength: 6 }).map((c) => c.join('')), { minLength: 1, maxLength: 4 }), (cells) => {
        cells.forEach((c, i) => expect(cellAt(cells, i)).toBe(c.trim()));
        expect(cellAt(cells, -1)).toBe('');
      }),
      { numRuns: 500 },
    );
  });

  const header = GoogleHeader.from(GOOGLE_HEADER, 'g.csv');

  it('maps columns by name with aliases, whatever their order or case', () => {
    const shuffled = [...GOOGLE_HEADER].reverse().map((h) => h.replace('Product id', 'PACKAGE ID').replace('Sku Id', 'SKU ID'));
    const h = GoogleHeader.from(shuffled, 'g.csv');
    const row = parseGoogleRow(2, [...gRow('GPA.1', 'Charge', '4.99')].reverse(), h) as GoogleRow;
    expect(row).toMatchObject({ order: 'GPA.1', type: 'charge', pkg: 'com.wondernest.app', sku: 'pack_ocean', amount: 499 });
  });

  it('names the expected headers for another layout (REPORT_FORMAT_UNKNOWN)', () => {
    expect(() => GoogleHeader.from(['Start Date\tEnd Date\tUPC'], 'x.txt')).toThrow(expect.objectContaining({ code: 'REPORT_FORMAT_UNKNOWN', hint: expect.stringContaining('Transaction Type') }));
  });

  it('groups an order into one sale and its refund rows into one refund per time', () => {
    const txs = new TxWindow(10);
    const rows = [
      gRow('GPA.1', 'Charge', '4.99'),
      gRow('GPA.1', 'Google fee', '-0.75'),
      gRow('GPA.1', 'Tax', '-0.40'),
      gRow('GPA.1', 'Charge refund', '-2.00', '9:00:00 AM PST', 'Nov 20, 2026'),
      gRow('GPA.1', 'Google fee refund', '0.30', '9:00:00 AM PST', 'Nov 20, 2026'),
    ];
    rows.forEach((r, i) => txs.add(parseGoogleRow(i + 2, r, header) as GoogleRow));
    expect(txs.size).toBe(2);
    const [sale, refund] = [txs.tx(0), txs.tx(1)];
    expect(sale).toMatchObject({ txid: 'GPA.1', kind: 'sale', gross: 499, fee: 75, tax: 40, net: 384, rows: 3 });
    expect(iso(sale!.ms)).toBe('2026-10-03T20:20:34.000Z');
    expect(refund).toMatchObject({ txid: 'GPA.1/refund/2026-11-20T17:00:00Z', kind: 'refund', order: 'GPA.1', gross: 200, fee: 30, tax: 0, net: -170 });
    expect(checkTx(sale!)).toBeUndefined();
    expect(checkTx(refund!)).toBeUndefined();
  });

  it('refuses unknown types, bad amounts and short rows, with line numbers', () => {
    expect(parseGoogleRow(7, gRow('GPA.1', 'Charge rebill', '1.00'), header)).toEqual([expect.objectContaining({ line: 7, column: 'Transaction Type' })]);
    expect(parseGoogleRow(8, gRow('GPA.1', 'Charge', '4.999'), header)).toEqual([expect.objectContaining({ line: 8, column: 'Amount (Merchant Currency)' })]);
    expect(parseGoogleRow(9, gRow('GPA.1', 'Charge', '4.99').slice(0, 10), header)).toEqual([expect.objectContaining({ line: 9, column: '*' })]);
    expect(parseGoogleRow(10, gRow('GPA.1', 'Charge', '4.99', '1:00:00 PM PST'), header)).toEqual([expect.objectContaining({ line: 10, column: 'Transaction Date' })]);
  });

  it('finds an order whose fee exceeds its charge, or that has no charge', () => {
    const txs = new TxWindow(10);
    txs.add(parseGoogleRow(2, gRow('GPA.2', 'Google fee', '-0.75'), header) as GoogleRow);
    expect(checkTx(txs.tx(0))).toMatch(/no Charge/);
    txs.add(parseGoogleRow(3, gRow('GPA.2', 'Charge', '0.50'), header) as GoogleRow);
    expect(txs.size).toBe(1);
    expect(checkTx(txs.tx(0))).toMatch(/exceed/);
  });

  it('refuses an order whose rows sum past 2^53 − 1 minor units instead of storing it rounded', () => {
    const txs = new TxWindow(10);
    // Each row is exact (999,999,999,999,999 cents); eleven of them are not, as a double.
    for (let i = 0; i < 11; i++) txs.add(parseGoogleRow(2 + i, gRow('GPA.3', 'Charge', '9999999999999.99'), header) as GoogleRow);
    expect(txs.tx(0).gross).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    expect(checkTx(txs.tx(0))).toMatch(/2\^53/);
    const one = new TxWindow(10);
    one.add(parseGoogleRow(2, gRow('GPA.4', 'Charge', '9999999999999.99'), header) as GoogleRow);
    expect(checkTx(one.tx(0))).toBeUndefined();
  });

  it('tells a last line cut inside its merchant amount by its buyer amount × rate (exactly, one minor unit of slack)', () => {
    const row = (buyer: string, rate: string, merchant: string) => {
      const cells = gRow('GPA.5', 'Charge', merchant);
      cells[14] = 'EUR';
      cells[15] = buyer;
      cells[16] = rate;
      return { cells, row: parseGoogleRow(2, cells, header) as GoogleRow };
    };
    const cut = (buyer: string, rate: string, merchant: string) => {
      const r = row(buyer, rate, merchant);
      return lastLineCutShort(r.row, r.cells, header);
    };
    expect(cut('4.99', '1.085000', '5.41')).toBe(false); // 5.41415 rounds to 5.41
    expect(cut('4.99', '1.085000', '5.42')).toBe(false); // Google's rounding: one unit of slack
    expect(cut('4.99', '1.085000', '5.4')).toBe(true); // "5.41" cut to "5.4"
    expect(cut('4.99', '1.085000', '5')).toBe(true);
    expect(cut('-0.75', '1.000000', '-0.7')).toBe(true);
    expect(cut('-0.70', '1.000000', '-0.7')).toBe(false); // a cut that changes nothing is no harm
    expect(cut('', '', '5.4')).toBe(false); // nothing to check against
  });

  it('strips a renewal suffix to find the purchase', () => {
    expect(baseOrderId('GPA.3369-1234-5678-90123..2')).toBe('GPA.3369-1234-5678-90123');
    expect(baseOrderId('GPA.3369-1234-5678-90123')).toBe('GPA.3369-1234-5678-90123');
  });
});

const APPLE_2014 =
  'Start Date\tEnd Date\tUPC\tISRC/ISBN\tVendor Identifier\tQuantity\tPartner Share\tExtended Partner Share\tPartner Share Currency\tSales or Return\tApple Identifier\tArtist/Show/Developer/Author\tTitle\tLabel/Studio/Network/Developer/Publisher\tGrid\tProduct Type Identifier\tISAN/Other Identifier\tCountry Of Sale\tPre-order Flag\tPromo Code\tCustomer Price\tCustomer Currency';

function aLine(q: string, share: string, ext: string, sr: string, country: string, currency = 'EUR', promo = ''): string {
  return ['09/27/2026', '10/31/2026', '', '', 'com.wondernest.pack.ocean', q, share, ext, currency, sr, '1234567890', 'WonderNest', 'Ocean', '', '', 'IA1', '', country, '', promo, '4.99', currency].join('\t');
}

function readApple(text: string, label = 'a.txt') {
  const r = new AppleReportReader(label);
  const out: unknown[] = [];
  text.split('\n').forEach((l, i) => {
    if (l === '') return;
    const x = r.accept(i + 1, l.split('\t'));
    if (x) out.push(x);
  });
  r.finish();
  return { reader: r, out };
}

describe('App Store financial reports', () => {
  it('reads the per-region layout and checks its trailer (units of sales only, returns in the amount)', () => {
    const text = [APPLE_2014, aLine('-1', '3.50', '-3.50', 'R', 'DE'), aLine('2', '0.00', '0.00', 'S', 'DE', 'EUR', 'CR'), aLine('3', '3.50', '10.50', 'S', 'FR'), 'Total_Rows\t3', 'Total_Amount\t7.00', 'Total_Units\t5', ''].join('\n');
    const { reader, out } = readApple(text);
    expect(reader.layout).toBe('region');
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ kind: 'refund', quantity: -1, shareMinor: 350, extendedMinor: -350, month: '2026-10', country: 'DE' });
    expect(out[1]).toMatchObject({ kind: 'sale', promo: 'CR', shareMinor: 0 });
    expect(iso((out[2] as { fromMs: number }).fromMs)).toBe('2026-09-27T07:00:00.000Z');
    expect(iso((out[2] as { untilMs: number }).untilMs)).toBe('2026-11-01T07:00:00.000Z');
  });

  it('accepts the documented spelling too, and JPY with .00', () => {
    const header = APPLE_2014.replace('Sales or Return', 'Sale or Return').replace('Country Of Sale', 'country of sale');
    const text = [header, aLine('1', '119.00', '119.00', 'S', 'JP', 'JPY'), aLine('1', '60.00', '60.00', 'S', 'JP', 'JPY'), 'Total_Rows\t2', 'Total_Amount\t179', 'Total_Units\t2'].join('\n');
    const { out } = readApple(text);
    expect(out).toMatchObject([{ shareMinor: 119, currency: 'JPY' }, { shareMinor: 60 }]);
  });

  it('refuses a trailer that disagrees (REPORT_TOTALS_MISMATCH) and a missing one (REPORT_TRUNCATED)', () => {
    const body = [APPLE_2014, aLine('3', '3.50', '10.50', 'S', 'FR')];
    expect(() => readApple([...body, 'Total_Rows\t1', 'Total_Amount\t10.51', 'Total_Units\t3'].join('\n'))).toThrow(
      expect.objectContaining({ code: 'REPORT_TOTALS_MISMATCH', message: expect.stringContaining('Total_Amount 10.51 ≠ 10.50') }),
    );
    expect(() => readApple([...body, 'Total_Rows\t1'].join('\n'))).toThrow(expect.objectContaining({ code: 'REPORT_TRUNCATED', message: expect.stringContaining('line 3') }));
  });

  it('finds bad lines: a fraction JPY does not have, a wrong extended share, a sale with negative units', () => {
    const r = new AppleReportReader('a.txt');
    r.accept(1, APPLE_2014.split('\t'));
    expect(r.accept(2, aLine('1', '119.50', '119.50', 'S', 'JP', 'JPY').split('\t'))).toEqual(expect.arrayContaining([expect.objectContaining({ line: 2, column: 'Partner Share' })]));
    expect(r.accept(3, aLine('2', '3.50', '7.01', 'S', 'FR').split('\t'))).toEqual([expect.objectContaining({ line: 3, column: 'Extended Partner Share' })]);
    expect(r.accept(4, aLine('-2', '3.50', '-7.00', 'S', 'FR').split('\t'))).toEqual([expect.objectContaining({ line: 4, column: 'Quantity' })]);
  });

  it('reads the transaction-level layout with its preamble and summary block', () => {
    const header = 'Transaction Date\tSettlement Date\tApple Identifier\tSKU\tTitle\tDeveloper Name\tProduct Type Identifier\tCountry of Sale\tQuantity\tPartner Share\tExtended Partner Share\tPartner Share Currency\tCustomer Price\tCustomer Currency\tSale or Return\tPromo Code\tOrder Type\tRegion';
    const row = (d: string, q: string, s: string, e: string, sr: string) => [d, '12/05/2026', '1234567890', 'com.wondernest.pack.ocean', 'Ocean', 'WonderNest', 'IA1', 'US', q, s, e, 'USD', '4.99', 'USD', sr, '', '', 'Americas'].join('\t');
    const text = [
      'Vendor Name\tWonderNest Ltd', 'Start Date\t11/01/2026', 'End Date\t11/28/2026', header,
      row('11/03/2026', '1', '3.49', '3.49', 'S'), row('11/20/2026', '-1', '3.49', '-3.49', 'R'), row('11/27/2026', '1', '3.49', '3.49', 'S'),
      '', 'Country Of Sale\tPartner Share Currency\tQuantity\tExtended Partner Share', 'US\tUSD\t1\t3.49',
    ].join('\n');
    const { reader, out } = readApple(text, 'tx.txt');
    expect(reader.layout).toBe('transaction');
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ month: '2026-11', start: { year: 2026, month: 11, day: 3 }, end: { day: 3 } });
    expect(() => readApple(text.replace('US\tUSD\t1\t3.49', 'US\tUSD\t2\t3.49'), 'tx.txt')).toThrow(expect.objectContaining({ code: 'REPORT_TOTALS_MISMATCH' }));
    expect(() => readApple(text.split('\n').slice(0, 6).join('\n'), 'tx.txt')).toThrow(expect.objectContaining({ code: 'REPORT_TRUNCATED' }));
  });

  it('tells a Google file apart (REPORT_FORMAT_UNKNOWN naming the expected headers)', () => {
    const r = new AppleReportReader('g.csv');
    expect(() => r.accept(1, [GOOGLE_HEADER.join(',')])).toThrow(expect.objectContaining({ code: 'REPORT_FORMAT_UNKNOWN', message: expect.stringContaining('googleplay') }));
  });
});
