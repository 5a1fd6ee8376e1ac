// Spawned-CLI tests of the import pipeline's shared rules: canonical ids on every read path,
// fee + tax within gross, one quarantine record per row, empty files, and the closed-month
// gate every importer passes through.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { seededCopies } from './seeded-copies.js';
import { SALES_HEADER } from './generate.js';

const { dir, freshDb, file } = seededCopies();

interface SaleCells {
  id: string;
  kind?: string;
  gross?: string;
  fee?: string;
  tax?: string;
  consent?: string;
  family?: string;
  of?: string;
  country?: string;
}
const cells = (s: SaleCells): string[] => [
  s.id, '2026-10-05T10:00:00Z', 'appstore', s.kind ?? 'sale', 'com.wondernest.pack.ocean', s.country ?? 'US', 'USD',
  s.gross ?? '499', s.fee ?? '150', s.tax ?? '0', s.consent ?? (s.kind === 'refund' ? '' : 'vpc-1'), s.family ?? 'fam-1', s.of ?? '',
];
/** Plain CSV (the fast line-splitting reader). */
const plainCsv = (rows: SaleCells[]) => `${SALES_HEADER}\n${rows.map((r) => cells(r).join(',')).join('\n')}\n`;
/** Every cell quoted (the file holds quotes, so csv-parse reads it). */
const quotedCsv = (rows: SaleCells[]) => `${SALES_HEADER}\n${rows.map((r) => cells(r).map((c) => `"${c}"`).join(',')).join('\n')}\n`;
const COLUMNS = SALES_HEADER.split(',');
const jsonl = (rows: SaleCells[]) =>
  rows.map((r) => JSON.stringify(Object.fromEntries(cells(r).map((c, i) => [COLUMNS[i], c]).filter(([, v]) => v !== '')))).join('\n') + '\n';

const PATHS = [
  ['plain CSV', plainCsv, 'csv'],
  ['quoted CSV (csv-parse)', quotedCsv, 'csv'],
  ['JSON Lines', jsonl, 'jsonl'],
] as const;

function salesRows(db: string): Array<{ transaction_id: string; consent_ref: string | null; family_hmac: string | null }> {
  const raw = new BetterSqlite3(db, { readonly: true });
  try {
    return raw.prepare('SELECT transaction_id, consent_ref, family_hmac FROM sales ORDER BY transaction_id').all() as never;
  } finally {
    raw.close();
  }
}

function quarantineCount(db: string): number {
  const raw = new BetterSqlite3(db, { readonly: true });
  try {
    return (raw.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }).n;
  } finally {
    raw.close();
  }
}

describe('transaction ids, consent_ref and family_ref have one canonical form on every path', () => {
  for (const [name, make, ext] of PATHS) {
    it(`${name}: invisible and hidden characters are ROW_INVALID naming the column; NFD and NFC are one id`, async () => {
      const db = freshDb();
      const hostile = file(
        `hostile.${ext}`,
        make([
          { id: 'nb-1\u00a0' },
          { id: '\u3000nb-2' },
          { id: 'zw\u200b-3' },
          { id: 'bom-4\ufeff' },
          { id: 'wj-5', consent: 'vpc\u2060-5' },
          { id: 'ctl-6', family: 'fam\u0007-6' },
          { id: 'in side-7' },
        ]),
      );
      const r = await runCli(['ledger', 'import', 'sales', hostile, '--db', db, '--json']);
      expect(r.code, r.stderr).toBe(3);
      const err = r.json().error;
      expect(err.code).toBe('ROWS_INVALID');
      const listed = (err.details.rows as Array<{ row: number; column: string; code: string }>).map((x) => [x.row, x.column, x.code]);
      const first = ext === 'csv' ? 2 : 1;
      expect(listed).toEqual([
        [first, 'transaction_id', 'ROW_INVALID'],
        [first + 1, 'transaction_id', 'ROW_INVALID'],
        [first + 2, 'transaction_id', 'ROW_INVALID'],
        [first + 3, 'transaction_id', 'ROW_INVALID'],
        [first + 4, 'consent_ref', 'ROW_INVALID'],
        [first + 5, 'family_ref', 'ROW_INVALID'],
      ]);
      expect(err.details.rows[0].message).toContain('U+00A0');
      expect(salesRows(db)).toEqual([]);

      // A decomposed é and a composed é: one transaction (the second is a duplicate of the first).
      const nfd = 'caf\u0065\u0301-8';
      const nfc = 'caf\u00e9-8';
      const forms = file(`forms.${ext}`, make([{ id: nfd, family: 'fam-\u0065\u0301' }, { id: nfc }]));
      const dup = await runCli(['ledger', 'import', 'sales', forms, '--db', db, '--json', '--quarantine']);
      expect(dup.code, dup.stderr).toBe(0);
      expect(dup.json()).toMatchObject({ imported: 1, quarantined: 1 });
      const stored = salesRows(db);
      expect(stored.map((s) => s.transaction_id)).toEqual([nfc]);
      // Padding spaces are trimmed as in every cell; the id is the same transaction again.
      const padded = file(`padded.${ext}`, make([{ id: `  ${nfc} `, family: 'fam-\u00e9' }]));
      expect((await runCli(['ledger', 'import', 'sales', padded, '--db', db, '--json'])).json()).toMatchObject({ imported: 0, skipped: 1 });
    });
  }

  it('a row that takes the fast parse and one that does not give the same id (a no-break space is never an id of its own)', async () => {
    const db = freshDb();
    // Row 3's padded country sends it through the full parsers; both rows name one transaction.
    const text = plainCsv([{ id: 'mix-1' }, { id: 'mix-1\u00a0', country: ' US ' }]);
    const r = await runCli(['ledger', 'import', 'sales', file('mix.csv', text), '--db', db, '--json', '--quarantine']);
    expect(r.json()).toMatchObject({ imported: 1, quarantined: 1 });
    expect(salesRows(db).map((s) => s.transaction_id)).toEqual(['mix-1']);
  });
});

describe('amounts: the store fee and tax are parts of the gross', () => {
  for (const [name, make, ext] of PATHS) {
    it(`${name}: a sale's fee + tax above its gross is ROW_INVALID naming the column; a fee-only refund is fine`, async () => {
      const db = freshDb();
      const path = file(
        `over.${ext}`,
        make([
          { id: 'ok-1', gross: '499', fee: '150', tax: '349' },
          { id: 'fee-2', gross: '100', fee: '101', tax: '0' },
          { id: 'tax-3', gross: '100', fee: '60', tax: '41' },
          { id: 'rf-4', kind: 'refund', of: 'ok-1', gross: '0', fee: '10', tax: '1' },
          { id: 'rf-5', kind: 'refund', of: 'ok-1', gross: '10', fee: '200', tax: '1' },
        ]),
      );
      const r = await runCli(['ledger', 'import', 'sales', path, '--db', db, '--json']);
      expect(r.code).toBe(3);
      const first = ext === 'csv' ? 2 : 1;
      const rows = r.json().error.details.rows as Array<{ row: number; column: string; code: string; message: string }>;
      expect(rows.map((x) => [x.row, x.column, x.code])).toEqual([
        [first + 1, 'store_fee_minor', 'ROW_INVALID'],
        [first + 2, 'tax_minor', 'ROW_INVALID'],
        [first + 4, 'store_fee_minor', 'ROW_REFUND_EXCEEDS'],
      ]);
      expect(rows[1]!.message).toContain('101 exceeds gross_minor 100');
    });
  }
});

describe('quarantine keeps each bad row once', () => {
  it('re-running --quarantine, or a renamed copy with the rows in another order, adds no second record', async () => {
    const db = freshDb();
    const rows: SaleCells[] = [{ id: 'g-1' }, { id: 'b-2', gross: '1', fee: '5' }, { id: 'b-3', consent: '' }];
    const path = file('q.csv', plainCsv(rows));
    const first = await runCli(['ledger', 'import', 'sales', path, '--db', db, '--json', '--quarantine']);
    expect(first.json()).toMatchObject({ imported: 1, quarantined: 2 });
    expect(quarantineCount(db)).toBe(2);
    const again = await runCli(['ledger', 'import', 'sales', path, '--db', db, '--json', '--quarantine']);
    expect(again.json()).toMatchObject({ imported: 0, skipped: 1, quarantined: 2 });
    const copy = file('renamed.csv', quotedCsv([rows[2]!, rows[1]!, rows[0]!]));
    expect((await runCli(['ledger', 'import', 'sales', copy, '--db', db, '--json', '--quarantine'])).code).toBe(0);
    const asJsonl = file('same.jsonl', jsonl([rows[1]!]));
    expect((await runCli(['ledger', 'import', 'sales', asJsonl, '--db', db, '--json', '--quarantine'])).code).toBe(0);
    expect(quarantineCount(db)).toBe(2);
    // A row with the wrong number of fields is identified by the record as read.
    const ragged = file('ragged.csv', `${SALES_HEADER}\nr-1,x\nr-2,y\n`);
    for (let i = 0; i < 2; i++) await runCli(['ledger', 'import', 'sales', ragged, '--db', db, '--json', '--quarantine']);
    expect(quarantineCount(db)).toBe(4);
    // A different bad row is a new record.
    const other = file('other.csv', plainCsv([{ id: 'b-4', gross: '1', fee: '5' }]));
    await runCli(['ledger', 'import', 'sales', other, '--db', db, '--json', '--quarantine']);
    expect(quarantineCount(db)).toBe(5);
  });
});

describe('an empty file is an empty import, whatever its format', () => {
  for (const kind of ['sales', 'reviews', 'rates'] as const) {
    it(`${kind}: a header-only CSV and an empty JSON Lines file both import 0 rows (exit 0, a batch recorded)`, async () => {
      const db = freshDb();
      const header = { sales: SALES_HEADER, reviews: 'review_id,pack,rating,reviewed_at', rates: 'currency,month,usd_per_unit' }[kind];
      for (const [name, text] of [[`h.csv`, `${header}\n`], ['e.jsonl', ''], ['blank.jsonl', '\n\n']] as const) {
        const r = await runCli(['ledger', 'import', kind, file(name, text), '--db', db, '--json']);
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
        expect(r.json()).toMatchObject({ ok: true, rows: 0, imported: 0, skipped: 0, quarantined: 0 });
      }
      // A CSV file without even a header cannot say which columns it holds.
      const none = await runCli(['ledger', 'import', kind, file('none.csv', ''), '--db', db, '--json']);
      expect(none.code).toBe(3);
      expect(none.json().error.code).toBe('IMPORT_HEADER');
    });
  }
});

describe('inputs go through the shared input rules', () => {
  it('a FIFO or a folder given as the file is INPUT_NOT_REGULAR (exit 3) without waiting for a writer', async () => {
    const fifo = join(dir(), 'sales.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of [fifo, dir()]) {
      const r = await runCli(['ledger', 'import', 'sales', path, '--db', freshDb(), '--json'], { timeoutMs: 20_000 });
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error.code).toBe('INPUT_NOT_REGULAR');
    }
  });
});
