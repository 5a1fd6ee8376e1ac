// Spawned-CLI tests of ledger migrate/import, creators import and catalog add.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { openLedger } from '../../src/ledger/db.js';
import { count, LEDGER_FIXTURES, seedLedger } from './seed.js';
import { SALES_HEADER } from './generate.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;
beforeAll(async () => {
  tmp = tempDir();
  db = await ledgerAt(tmp.dir, 'seeded.db');
  await (await seedLedger(db)).close();
});
afterAll(() => tmp.cleanup());

describe('packops ledger', () => {
  it('migrate creates a ledger and reports it; an unreachable PostgreSQL server is LEDGER_UNREACHABLE (exit 3)', async () => {
    const fresh = await ledgerAt(tmp.dir, 'fresh.db');
    const r = await runCli(['ledger', 'migrate', '--db', fresh, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, db: fresh, applied: expect.arrayContaining(['0001_initial']) });
    expect((await runCli(['ledger', 'migrate', '--db', fresh, '--json'])).json()).toMatchObject({ applied: [] });
    await rawQuery(fresh, 'INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)', ['9000_newer_packops', '2027-01-01T00:00:00Z']);
    const tooNew = await runCli(['ledger', 'import', 'rates', join(LEDGER_FIXTURES, 'rates.csv'), '--db', fresh, '--json']);
    expect(tooNew.code).toBe(4);
    expect(tooNew.json().error.code).toBe('LEDGER_TOO_NEW');
    const pg = await runCli(['ledger', 'migrate', '--json'], { env: { PACKOPS_DB: 'postgres://finance:Sesame-4711@127.0.0.1:1/packops' } });
    expect(pg.code).toBe(3);
    expect(pg.json()).toMatchObject({ ok: false, error: { code: 'LEDGER_UNREACHABLE', details: { host: '127.0.0.1', port: 1, database: 'packops' } } });
    expect(pg.json().error.message).toContain('127.0.0.1:1, database packops');
    expect(pg.stdout + pg.stderr).not.toContain('Sesame-4711');
  });

  it('import sales prints the summary; a re-import skips every row', async () => {
    const file = join(LEDGER_FIXTURES, 'sales-2026-10.csv');
    const first = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s = first.json();
    expect(s).toMatchObject({ ok: true, imported: 25, skipped: 0, quarantined: 0 });
    expect(s.batch).toMatch(/^[0-9a-f-]{36}$/);
    const again = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(again.json()).toMatchObject({ ok: true, imported: 0, skipped: 25, quarantined: 0 });
    for (const kind of ['rates', 'reviews']) {
      const r = await runCli(['ledger', 'import', kind, join(LEDGER_FIXTURES, `${kind}.csv`), '--db', db, '--json']);
      expect(r.code, r.stderr).toBe(0);
    }
    const plain = await runCli(['ledger', 'import', 'sales', file, '--db', db]);
    expect(plain.stdout).toMatch(/skipped\s+25/);
  });

  it('bad rows: exit 3 with every row listed and nothing written; --quarantine writes the good ones', async () => {
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(
      bad,
      [
        SALES_HEADER,
        'e-1,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,USD,499,15,0,vpc-1,fam-1,',
        'e-2,2026-10-09T10:00:00,web,sale,ocean-creatures,US,USD,499,15,0,vpc-2,fam-2,',
        'e-3,2026-10-09T10:00:00Z,web,sale,ocean-creatures,JP,JPY,7.5,0,0,vpc-3,,',
      ].join('\n'),
    );
    const before = await runCli(['ledger', 'import', 'sales', bad, '--db', db, '--json']);
    expect(before.code).toBe(3);
    const err = before.json();
    expect(err.ok).toBe(false);
    expect(err.error.code).toBe('ROWS_INVALID');
    expect(err.error.details.rows).toEqual([
      expect.objectContaining({ row: 3, column: 'occurred_at', code: 'ROW_TIMEZONE_MISSING' }),
      expect.objectContaining({ row: 4, column: 'gross_minor', code: 'ROW_INVALID' }),
    ]);
    const pretty = await runCli(['ledger', 'import', 'sales', bad, '--db', db]);
    expect(pretty.code).toBe(3);
    expect(pretty.stdout).toBe('');
    expect(pretty.stderr).toContain('bad.csv:3 occurred_at ROW_TIMEZONE_MISSING');
    expect(pretty.stderr).toContain('ROWS_INVALID');
    expect(pretty.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const q = await runCli(['ledger', 'import', 'sales', bad, '--db', db, '--quarantine', '--json']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.json()).toMatchObject({ ok: true, imported: 1, skipped: 0, quarantined: 2 });
    const ledger = await openLedger(db);
    expect(await count(ledger, 'quarantine')).toBe(2);
    await ledger.close();
  });

  it('CSV as spreadsheets write it: a UTF-8 BOM, CRLF, quoted commas, columns in another order, a trailing empty line; offsets stored in UTC', async () => {
    const file = join(tmp.dir, 'excel.csv');
    const header = 'consent_ref,transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor,refund_of,family_ref';
    writeFileSync(
      file,
      `\uFEFF${[
        header,
        '"vpc, quoted",x-1,2026-10-01T08:00:00+05:30,appstore,sale,ocean-creatures,IN,INR,49900,15000,0,,fam-1',
        'vpc-2,x-2,2026-10-31T23:30:00-01:00,web,sale,starter-bundle,KW,KWD,1500,300,0,,',
        ',x-3,2026-11-02T08:00:00Z,appstore,refund,ocean-creatures,IN,INR,20000,5000,0,x-1,',
      ].join('\r\n')}\r\n\r\n`,
    );
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, rows: 3, imported: 3, skipped: 0, quarantined: 0 });
    const rows = await rawQuery(db, "SELECT transaction_id, occurred_at, month, consent_ref, currency, gross_minor FROM sales WHERE transaction_id LIKE 'x-%' ORDER BY transaction_id");
    expect(rows).toEqual([
      { transaction_id: 'x-1', occurred_at: '2026-10-01T02:30:00.000Z', month: '2026-10', consent_ref: 'vpc, quoted', currency: 'INR', gross_minor: 49900 },
      { transaction_id: 'x-2', occurred_at: '2026-11-01T00:30:00.000Z', month: '2026-11', consent_ref: 'vpc-2', currency: 'KWD', gross_minor: 1500 },
      { transaction_id: 'x-3', occurred_at: '2026-11-02T08:00:00.000Z', month: '2026-11', consent_ref: null, currency: 'INR', gross_minor: 20000 },
    ]);
    // A header alone is an empty export: nothing to import, not an error.
    const headerOnly = join(tmp.dir, 'header-only.csv');
    writeFileSync(headerOnly, `\uFEFF${header}\r\n`);
    expect((await runCli(['ledger', 'import', 'sales', headerOnly, '--db', db, '--json'])).json()).toMatchObject({ ok: true, rows: 0, imported: 0 });
  });

  it('CSV shape: an unclosed or broken quote is CSV_MALFORMED, an unknown column IMPORT_HEADER (exit 3), nothing written', async () => {
    const cases: Array<[string, string]> = [
      [`${SALES_HEADER}\nq-1,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,USD,499,15,0,"vpc-1,,\n`, 'CSV_MALFORMED'],
      [`${SALES_HEADER}\nq-2,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,USD,499,15,0,"vpc"x,,\n`, 'CSV_MALFORMED'],
      // A quote inside an unquoted field: csv-parse's INVALID_OPENING_QUOTE (no CSV_ prefix) used to be exit 70.
      [`${SALES_HEADER}\nq-4,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,USD,499,15,0,vp"c,,\n`, 'CSV_MALFORMED'],
      [`${SALES_HEADER},channel\nq-3,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,USD,499,15,0,vpc,,,web\n`, 'IMPORT_HEADER'],
    ];
    for (const [i, [text, code]] of cases.entries()) {
      const file = join(tmp.dir, `shape-${i}.csv`);
      writeFileSync(file, text);
      const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
      expect(r.code, `${code}: ${r.stdout}`).toBe(3);
      expect(r.json().error.code).toBe(code);
    }
    expect(await rawQuery(db, "SELECT count(*) AS n FROM sales WHERE transaction_id LIKE 'q-%'")).toEqual([{ n: 0 }]);
  });

  it('a second copy of a row already in the ledger is ROW_DUPLICATE_IN_FILE; the same id in another store is its own transaction', async () => {
    const row = (store: string) => `dup-1,2026-10-09T10:00:00Z,${store},sale,ocean-creatures,US,USD,499,15,0,vpc-1,,`;
    const first = join(tmp.dir, 'dup-first.csv');
    writeFileSync(first, [SALES_HEADER, row('web')].join('\n'));
    expect((await runCli(['ledger', 'import', 'sales', first, '--db', db, '--json'])).json()).toMatchObject({ imported: 1 });
    const again = join(tmp.dir, 'dup-again.csv');
    writeFileSync(again, [SALES_HEADER, row('web'), row('web'), row('appstore')].join('\n'));
    const r = await runCli(['ledger', 'import', 'sales', again, '--db', db, '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.details.rows).toEqual([expect.objectContaining({ row: 3, column: 'transaction_id', code: 'ROW_DUPLICATE_IN_FILE' })]);
    const q = await runCli(['ledger', 'import', 'sales', again, '--db', db, '--json', '--quarantine']);
    expect(q.json()).toMatchObject({ ok: true, imported: 1, skipped: 1, quarantined: 1 });
  });

  it('a currency code that is not money (XXX "no currency", XTS, metals) is ROW_INVALID, as validate treats it', async () => {
    const file = join(tmp.dir, 'not-money.csv');
    writeFileSync(
      file,
      [SALES_HEADER, 'nm-1,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,XXX,499,15,0,vpc-1,,', 'nm-2,2026-10-09T10:00:00Z,web,sale,ocean-creatures,US,XAU,1,0,0,vpc-2,,'].join('\n'),
    );
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.details.rows).toEqual([
      expect.objectContaining({ row: 2, column: 'currency', code: 'ROW_INVALID' }),
      expect.objectContaining({ row: 3, column: 'currency', code: 'ROW_INVALID' }),
    ]);
  });

  it('JSON Lines: an array or object where text belongs is a bad row, never stored as its JSON text', async () => {
    const file = join(tmp.dir, 'objects.jsonl');
    const row = { transaction_id: 'obj-1', occurred_at: '2026-10-09T10:00:00Z', store: 'web', kind: 'sale', product: 'ocean-creatures', country: 'US', currency: 'USD', gross_minor: 499, store_fee_minor: 15, tax_minor: 0 };
    writeFileSync(
      file,
      [
        JSON.stringify({ ...row, consent_ref: ['vpc-1'] }),
        JSON.stringify({ ...row, transaction_id: 'obj-2', consent_ref: 'vpc-2', family_ref: { id: 'fam-2' } }),
        JSON.stringify({ ...row, transaction_id: 'obj-3', consent_ref: 'vpc-3', family_ref: true }),
      ].join('\n'),
    );
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.details.rows).toEqual([
      expect.objectContaining({ row: 1, column: 'consent_ref', code: 'ROW_INVALID' }),
      expect.objectContaining({ row: 2, column: 'family_ref', code: 'ROW_INVALID' }),
      expect.objectContaining({ row: 3, column: 'family_ref', code: 'ROW_INVALID' }),
    ]);
  });

  it('refuses a missing file (exit 3) and an unknown kind (usage, exit 2)', async () => {
    const missing = await runCli(['ledger', 'import', 'sales', join(tmp.dir, 'nope.csv'), '--db', db, '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json().error.code).toBe('PATH_NOT_FOUND');
    const kind = await runCli(['ledger', 'import', 'payments', 'x.csv', '--db', db, '--json']);
    expect(kind.code).toBe(2);
  });
});

describe('packops creators import', () => {
  it('imports, re-imports without duplicates, and rejects bad shares with exit 3', async () => {
    const fresh = await ledgerAt(tmp.dir, 'creators.db');
    const file = join(LEDGER_FIXTURES, 'creators.json');
    const r = await runCli(['creators', 'import', file, '--db', fresh, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, creators: { added: 3 }, collaborations: { added: 1 } });
    expect((await runCli(['creators', 'import', file, '--db', fresh, '--json'])).json()).toMatchObject({ creators: { unchanged: 3 } });
    const badFile = join(tmp.dir, 'bad-creators.json');
    const value = JSON.parse(readFileSync(file, 'utf8'));
    value.collaborations[0].members[0].sharePercent = '49.99';
    writeFileSync(badFile, JSON.stringify(value));
    const bad = await runCli(['creators', 'import', badFile, '--db', fresh, '--json']);
    expect(bad.code).toBe(3);
    expect(bad.json().error).toMatchObject({ code: 'CREATORS_INVALID', details: { problems: [expect.objectContaining({ code: 'SHARES' })] } });
  });
});

describe('packops catalog add', () => {
  it('verifies real archives, registers them, is a no-op the second time, and refuses conflicts, unknown owners and bad signatures', async () => {
    const work = join(tmp.dir, 'catalog');
    const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', join(work, 'keys')]);
    expect(keys.code, keys.stderr).toBe(0);
    const pub = join(work, 'keys', 'packops.pub');
    const key = join(work, 'keys', 'packops.key');
    const build = async (dir: string, out: string) => {
      const r = await runCli(['build', dir, '--key', key, '--out', out], { cwd: work });
      expect(r.code, r.stderr).toBe(0);
    };
    cpSync(join(LEDGER_FIXTURES, '..', 'packs', 'counting-garden'), join(work, 'pack'), { recursive: true });
    await build(join(work, 'pack'), join(work, 'dist'));
    const zip = join(work, 'dist', 'counting-garden-1.0.0.zip');
    const ledgerDb = await ledgerAt(work, 'l.db');

    const unknownOwner = await runCli(['catalog', 'add', zip, '--pubkey', pub, '--db', ledgerDb, '--json']);
    expect(unknownOwner.code).toBe(3);
    expect(unknownOwner.json().error.code).toBe('OWNER_UNKNOWN');

    await runCli(['creators', 'import', join(LEDGER_FIXTURES, 'creators.json'), '--db', ledgerDb]);
    const added = await runCli(['catalog', 'add', zip, '--pubkey', pub, '--published-at', '2026-09-01T00:00:00Z', '--db', ledgerDb, '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({ ok: true, results: [{ ok: true, status: 'added', slug: 'counting-garden', version: '1.0.0', owner: { id: 'bo-chen', kind: 'creator' }, publishedAt: '2026-09-01T00:00:00.000Z' }] });
    const again = await runCli(['catalog', 'add', zip, '--pubkey', pub, '--db', ledgerDb, '--json']);
    expect(again.json().results[0].status).toBe('unchanged');

    // Same slug and version, different content: a conflict.
    const manifest = JSON.parse(readFileSync(join(work, 'pack', 'pack.json'), 'utf8'));
    manifest.description = `${manifest.description} Now with more flowers to count.`;
    writeFileSync(join(work, 'pack', 'pack.json'), JSON.stringify(manifest, null, 2));
    await build(join(work, 'pack'), join(work, 'dist2'));
    const conflict = await runCli(['catalog', 'add', join(work, 'dist2', 'counting-garden-1.0.0.zip'), '--pubkey', pub, '--db', ledgerDb, '--json']);
    expect(conflict.code).toBe(4);
    expect(conflict.json().error.code).toBe('PACK_VERSION_CONFLICT');

    // A flipped byte fails verification: exit 1 with findings, nothing registered.
    const tampered = join(work, 'tampered.zip');
    const bytes = readFileSync(zip);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(tampered, bytes);
    cpSync(`${zip}.minisig`, `${tampered}.minisig`);
    const failed = await runCli(['catalog', 'add', tampered, '--pubkey', pub, '--db', ledgerDb, '--json']);
    expect(failed.code).toBe(1);
    expect(failed.json()).toMatchObject({ ok: false, results: [{ ok: false }] });
    expect(failed.json().results[0].findings.length).toBeGreaterThan(0);
    const ledger = await openLedger(ledgerDb);
    expect((await ledger.db.selectFrom('packs').select('archive_sha256').execute()).length).toBe(1);
    await ledger.close();
  });
});
