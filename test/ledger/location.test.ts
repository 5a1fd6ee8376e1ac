// Ledger locations: SQLite paths and PostgreSQL URLs in libpq syntax, the PG* variables
// filling what a URL leaves out, and URLs shown with their password as ***.
import { describe, expect, it } from 'vitest';
import { parseLedgerLocation, parsePostgresUrl, redactUrl } from '../../src/ledger/location.js';
import { redactSecrets } from '../../src/shared/redact.js';

describe('PostgreSQL URLs', () => {
  it('reads user, password (percent-decoded), host, port, database and sslmode; shows the URL with ***', () => {
    const loc = parsePostgresUrl('postgres://fin:p%40ss%3Aword@db.internal:6543/ledger?sslmode=require', {});
    expect(loc).toMatchObject({ kind: 'postgres', user: 'fin', password: 'p@ss:word', host: 'db.internal', port: 6543, database: 'ledger', sslmode: 'require' });
    expect(loc.display).toBe('postgres://fin:***@db.internal:6543/ledger?sslmode=require');
    expect(loc.target).toBe('db.internal:6543, database ledger');
    expect(redactSecrets('failed for p@ss:word')).toBe('failed for ***');
  });

  it('fills what the URL leaves out from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE; the URL wins', () => {
    const env = { PGHOST: '/run/pg', PGPORT: '5999', PGUSER: 'ops', PGPASSWORD: 'envpass', PGDATABASE: 'books', PGSSLMODE: 'disable' };
    expect(parsePostgresUrl('postgresql://', env)).toMatchObject({ host: '/run/pg', port: 5999, user: 'ops', password: 'envpass', database: 'books', sslmode: 'disable' });
    expect(parsePostgresUrl('postgresql://finance@10.0.0.5/ledger?sslmode=verify-full', env)).toMatchObject({
      host: '10.0.0.5', port: 5999, user: 'finance', password: 'envpass', database: 'ledger', sslmode: 'verify-full',
    });
    expect(parsePostgresUrl('postgresql://', env).display).toBe('postgresql://');
    // libpq defaults: the Unix socket folder, 5432, sslmode prefer, the database named after the user.
    expect(parsePostgresUrl('postgres://alice@', {})).toMatchObject({ host: '/var/run/postgresql', port: 5432, database: 'alice', sslmode: 'prefer' });
  });

  it('takes host, port, dbname, user and password as parameters, and IPv6 hosts in brackets', () => {
    expect(parsePostgresUrl('postgres:///ledger?host=/tmp/pg&port=5444&user=u&password=zz-top-secret', {})).toMatchObject({ host: '/tmp/pg', port: 5444, user: 'u', password: 'zz-top-secret', database: 'ledger' });
    expect(parsePostgresUrl('postgres:///ledger?host=/tmp/pg&password=zz-top-secret', {}).display).toBe('postgres:///ledger?host=/tmp/pg&password=***');
    expect(parsePostgresUrl('postgres://u@[::1]:5433/l', {})).toMatchObject({ host: '::1', port: 5433 });
  });

  it('refuses what it cannot honour with LEDGER_UNSUPPORTED (exit 3), the password never in the message', () => {
    for (const url of ['postgres://u:hunter2hunter2@h/db?bogus=1', 'postgres://u:hunter2hunter2@h/db?sslmode=sometimes', 'postgres://u:hunter2hunter2@h:99999/db', 'postgres://u:hunter2hunter2@h1,h2/db']) {
      try {
        parsePostgresUrl(url, {});
        expect.unreachable(url);
      } catch (err) {
        expect(err).toMatchObject({ code: 'LEDGER_UNSUPPORTED', exitCode: 3 });
        expect((err as Error).message).not.toContain('hunter2hunter2');
      }
    }
  });

  it('redactUrl hides user-info and password= passwords, even with an unencoded @', () => {
    expect(redactUrl('postgres://u:pw@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://u:p@w@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://u@h/db?password=abc&x=1')).toBe('postgres://u@h/db?password=***&x=1');
    expect(redactUrl('/srv/ledger.db')).toBe('/srv/ledger.db');
  });

  it('parseLedgerLocation: SQLite paths and URLs stay files, other schemes are unsupported', () => {
    expect(parseLedgerLocation('sqlite:data/l.db', '/srv')).toEqual({ kind: 'sqlite', file: '/srv/data/l.db', display: '/srv/data/l.db' });
    expect(parseLedgerLocation('POSTGRESQL://u@h/db', '/srv', {}).kind).toBe('postgres');
    expect(() => parseLedgerLocation('mysql://u:hunter2hunter2@h/db', '/srv')).toThrow(expect.objectContaining({ code: 'LEDGER_UNSUPPORTED' }));
  });
});
