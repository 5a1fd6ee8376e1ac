// JSON Lines ids written as JSON numbers: JSON.parse rounds an integer past 2^53 − 1 to a
// neighbour, so such an id would silently become another transaction's. The importers take a
// whole number JSON holds exactly as its text, and refuse any other number (ROW_INVALID).
import { describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { seededCopies } from './seeded-copies.js';

const { freshDb, file: write } = seededCopies();

/** One JSON Lines file; `id` is spliced in as written (a JSON number literal, not a string). */
function saleLine(idLiteral: string, day: string, consent: string): string {
  return `{"transaction_id":${idLiteral},"occurred_at":"2026-10-${day}T10:00:00Z","store":"appstore","kind":"sale","product":"com.wondernest.pack.ocean","country":"US","currency":"USD","gross_minor":499,"store_fee_minor":150,"tax_minor":0,"consent_ref":"${consent}","family_ref":"fam-1"}`;
}

function ids(db: string, table: 'sales' | 'purchases'): string[] {
  const raw = new BetterSqlite3(db, { readonly: true });
  try {
    return (raw.prepare(`SELECT transaction_id FROM ${table} ORDER BY transaction_id`).all() as Array<{ transaction_id: string }>).map((r) => r.transaction_id);
  } finally {
    raw.close();
  }
}

describe('JSON Lines ids given as JSON numbers', () => {
  it('an id past 2^53 − 1 is ROW_INVALID (it would be rounded into another sale\'s id), and nothing is written', async () => {
    const db = freshDb();
    // 20000008123400011 reads back as 20000008123400012: two different sales would be one.
    const file = write('big.jsonl', `${saleLine('20000008123400011', '01', 'c1')}\n${saleLine('"ok-2"', '02', 'c2')}\n`);
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe('ROWS_INVALID');
    expect(err.details.rows).toEqual([
      expect.objectContaining({ row: 1, column: 'transaction_id', code: 'ROW_INVALID', message: expect.stringContaining('write it as a string') }),
    ]);
    expect(ids(db, 'sales')).toEqual([]);
  });

  it('a fractional number is refused; a whole number JSON holds exactly is the id as its digits', async () => {
    const db = freshDb();
    const frac = write('frac.jsonl', `${saleLine('1.5', '01', 'c1')}\n`);
    const f = await runCli(['ledger', 'import', 'sales', frac, '--db', db, '--json']);
    expect(f.code).toBe(3);
    expect(f.json().error.details.rows[0]).toMatchObject({ column: 'transaction_id', code: 'ROW_INVALID' });
    // Apple's StoreKit ids are 15–16 digits: below 2^53, exact, and stored as written.
    const ok = write('ok.jsonl', `${saleLine('2000000812340001', '01', 'c1')}\n${saleLine('9007199254740991', '02', 'c2')}\n`);
    const r = await runCli(['ledger', 'import', 'sales', ok, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(ids(db, 'sales')).toEqual(['2000000812340001', '9007199254740991']);
  });

  it('the purchase log refuses a rounded id too', async () => {
    const db = freshDb();
    const line = (id: string) => `{"store":"appstore","transaction_id":${id},"kind":"sale","occurred_at":"2026-10-01T10:00:00Z","product":"com.wondernest.pack.ocean","country":"US","consent_ref":"c","family_ref":"f"}`;
    const file = write('purchases.jsonl', `${line('20000008123400011')}\n`);
    const r = await runCli(['ledger', 'import', 'purchases', file, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.details.rows[0]).toMatchObject({ column: 'transaction_id', code: 'ROW_INVALID' });
    expect(ids(db, 'purchases')).toEqual([]);
  });
});
