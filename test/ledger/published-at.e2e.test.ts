// One strict timestamp parser for --published-at (catalog add, release) and the imports:
// impossible dates and times, extended years, loose forms and offsets outside −12:00…+14:00
// are refused with a code; a publication dated in a closed month is PERIOD_CLOSED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { workspace, type Workspace } from '../catalog/workspace.js';
import { SALES_HEADER } from './generate.js';
import { PackopsError } from '../../src/shared/errors.js';
import { publishedAtInstant } from '../../src/shared/timestamp.js';

let ws: Workspace;
const zip = 'dist/counting-garden-1.0.0.zip';

beforeAll(async () => {
  ws = await workspace(['counting-garden']);
  const built = await ws.run(['build', 'packs/counting-garden', '--key', 'keys/packops.key', '--out', 'dist']);
  expect(built.code, built.stderr).toBe(0);
}, 120_000);
afterAll(() => ws.cleanup());

const packsRegistered = () => {
  const raw = new BetterSqlite3(join(ws.dir, 'packops.db'), { readonly: true });
  try {
    return raw.prepare('SELECT slug, version, published_at FROM packs').all() as Array<{ slug: string; version: string; published_at: string }>;
  } finally {
    raw.close();
  }
};

describe('--published-at takes one strict form', () => {
  const refused = [
    ['2026-02-30T09:00:00Z', /not a real date/],
    ['2026-10-01T24:00:00Z', /not a real time/],
    ['2026-10-01T23:60:00Z', /not a real time/],
    ['2026-06-30T23:59:60Z', /not a real time/],
    ['+275760-09-13T00:00:00Z', /not a timestamp of the form/],
    ['2026-10-01 09:00:00Z', /not a timestamp of the form/],
    ['2026-10-01T09:00Z', /not a timestamp of the form/],
    ['2026-10-01t09:00:00z', /not a timestamp of the form/],
    ['2026-10-01T09:00:00+0100', /not a timestamp of the form/],
    ['2026-10-01T09:00:00.1234Z', /not a timestamp of the form/],
    ['2026-10-01T09:00:00,5Z', /not a timestamp of the form/],
    ['2026-10-01T09:00:00+14:30', /outside −12:00…\+14:00/],
    ['2026-10-01T09:00:00-12:01', /outside −12:00…\+14:00/],
    ['2026-10-01T09:00:00+23:59', /outside −12:00…\+14:00/],
    ['2026-10-01T09:00:00', /no time zone/],
    ['2026-10-01', /no time zone/],
    ['Thu, 01 Oct 2026 09:00:00 GMT', /not a timestamp of the form/],
  ] as const;
  it.each(refused)('the parser refuses %s with PUBLISHED_AT_INVALID (exit 3)', (value, message) => {
    let thrown: unknown;
    try {
      publishedAtInstant(value);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PackopsError);
    expect(thrown).toMatchObject({ code: 'PUBLISHED_AT_INVALID', exitCode: 3, details: { publishedAt: value } });
    expect((thrown as Error).message).toMatch(message);
  });

  // Through the CLI, one value of each kind of refusal (the parser is the one above).
  const throughCli = refused.filter(([value]) =>
    ['2026-02-30T09:00:00Z', '2026-10-01T24:00:00Z', '2026-10-01T09:00Z', '2026-10-01T09:00:00+14:30', '2026-10-01'].includes(value),
  );
  for (const [value, message] of throughCli) {
    it(`catalog add refuses ${value} (PUBLISHED_AT_INVALID, exit 3) and registers nothing`, async () => {
      const r = await ws.run(['catalog', 'add', zip, '--pubkey', 'keys/packops.pub', '--published-at', value, '--json']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'PUBLISHED_AT_INVALID' } });
      expect(r.json().error.message).toMatch(message);
      expect(packsRegistered()).toEqual([]);
    });
  }

  it('release refuses the same values before building anything', async () => {
    for (const value of ['2026-02-30T09:00:00Z', '2026-10-01T09:00:00+14:30', '+275760-09-13T00:00:00Z']) {
      const r = await ws.run(['release', 'packs/counting-garden', '--key', 'keys/packops.key', '--out', 'rel', '--published-at', value, '--json']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error.code).toBe('PUBLISHED_AT_INVALID');
    }
    expect(packsRegistered()).toEqual([]);
  });

  it('the sales import refuses the same values as ROW_INVALID (offsets too), and takes −12:00 and +14:00', async () => {
    const rows = [
      'a1,2026-10-01T24:00:00Z,web,sale,counting-garden,US,USD,499,0,0,vpc-1,,',
      'a2,2026-10-01T09:00:00+14:30,web,sale,counting-garden,US,USD,499,0,0,vpc-2,,',
      'a3,+275760-09-13T00:00:00Z,web,sale,counting-garden,US,USD,499,0,0,vpc-3,,',
      'a4,2026-10-01 09:00:00Z,web,sale,counting-garden,US,USD,499,0,0,vpc-4,,',
      'a5,2026-10-01T09:00:00-12:00,web,sale,counting-garden,US,USD,499,0,0,vpc-5,,',
      'a6,2026-10-01T09:00:00.250+14:00,web,sale,counting-garden,US,USD,499,0,0,vpc-6,,',
    ];
    writeFileSync(join(ws.dir, 'offsets.csv'), `${SALES_HEADER}\n${rows.join('\n')}\n`);
    // The sales name the pack by slug: register it first (in an open month).
    const added = await ws.run(['catalog', 'add', zip, '--pubkey', 'keys/packops.pub', '--published-at', '2026-09-01T00:00:00Z', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const r = await ws.run(['ledger', 'import', 'sales', 'offsets.csv', '--json']);
    expect(r.code, r.stderr).toBe(3);
    const problems = r.json().error.details.rows as Array<{ row: number; column: string; code: string }>;
    expect(problems.map((p) => [p.row, p.column, p.code])).toEqual([
      [2, 'occurred_at', 'ROW_INVALID'],
      [3, 'occurred_at', 'ROW_INVALID'],
      [4, 'occurred_at', 'ROW_INVALID'],
      [5, 'occurred_at', 'ROW_INVALID'],
    ]);
    writeFileSync(join(ws.dir, 'good.csv'), `${SALES_HEADER}\n${rows.slice(4).join('\n')}\n`);
    const good = await ws.run(['ledger', 'import', 'sales', 'good.csv', '--json']);
    expect(good.code, good.stderr).toBe(0);
    const raw = new BetterSqlite3(join(ws.dir, 'packops.db'), { readonly: true });
    const stored = raw.prepare('SELECT transaction_id, occurred_at FROM sales ORDER BY transaction_id').all();
    raw.close();
    expect(stored).toEqual([
      { transaction_id: 'a5', occurred_at: '2026-10-01T21:00:00.000Z' },
      { transaction_id: 'a6', occurred_at: '2026-09-30T19:00:00.250Z' },
    ]);
  });
});

describe('a publication dated in a closed month', () => {
  it('is PERIOD_CLOSED (exit 4), and one in an open month is registered', async () => {
    // The sales of the test above are in 2026-09 and 2026-10: close both.
    for (const period of ['2026-09', '2026-10']) {
      const closed = await ws.run(['payouts', 'close', '--period', period, '--json']);
      expect(closed.code, closed.stderr).toBe(0);
    }
    const before = packsRegistered();
    // Another version of the pack, so the archive is not the registered one.
    const manifest = JSON.parse((await import('node:fs')).readFileSync(join(ws.dir, 'packs/counting-garden/pack.json'), 'utf8'));
    manifest.version = '1.1.0';
    writeFileSync(join(ws.dir, 'packs/counting-garden/pack.json'), JSON.stringify(manifest, null, 2));
    const built = await ws.run(['build', 'packs/counting-garden', '--key', 'keys/packops.key', '--out', 'dist']);
    expect(built.code, built.stderr).toBe(0);
    const next = 'dist/counting-garden-1.1.0.zip';
    for (const at of ['2026-10-31T23:59:59Z', '2026-11-01T01:00:00+02:00', '2026-08-15T00:00:00Z']) {
      const r = await ws.run(['catalog', 'add', next, '--pubkey', 'keys/packops.pub', '--published-at', at, '--json']);
      expect(r.code, `${at}: ${r.stderr}`).toBe(4);
      expect(r.json().error.code).toBe('PERIOD_CLOSED');
    }
    expect(packsRegistered()).toEqual(before);
    const open = await ws.run(['catalog', 'add', next, '--pubkey', 'keys/packops.pub', '--published-at', '2026-11-01T00:00:00Z', '--json']);
    expect(open.code, open.stderr).toBe(0);
    expect(open.json().results[0]).toMatchObject({ status: 'added', version: '1.1.0', publishedAt: '2026-11-01T00:00:00.000Z' });
    // Re-adding the registered 1.0.0 archive stays a no-op, whatever the date.
    const again = await ws.run(['catalog', 'add', zip, '--pubkey', 'keys/packops.pub', '--published-at', '2026-09-05T00:00:00Z', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().results[0].status).toBe('unchanged');
  }, 120_000);
});
