// Password authentication and TLS against a real server. The test server (.ci/pg-server)
// makes the role packops_scram log in with scram-sha-256 (every other role is trusted);
// this test gives that role a password and a ledger database of its own, then logs in with
// the password in the URL and in PGPASSWORD. A wrong or missing password, and sslmode=require
// against a server without TLS, are LEDGER_UNREACHABLE (exit 3) naming host, port and
// database, and no output ever holds the password.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type RunResult } from '../helpers/cli.js';
import { freshPgDatabase, pgUrl, rawQuery, TEST_PG } from '../helpers/ledgers.js';
import { LEDGER_FIXTURES } from '../ledger/seed.js';

const ROLE = 'packops_scram';
const PASSWORD = 'Scr@m-Pass:w0rd/42';
const WRONG = 'Not-The-Password-77';

let tmp: ReturnType<typeof tempDir>;
let database: string;
let host: string;
let port: number;

/** The role's URL for the test database, with a password (percent-encoded) or none. */
function url(password?: string, query = ''): string {
  const u = new URL(TEST_PG!);
  u.username = ROLE;
  u.password = password === undefined ? '' : encodeURIComponent(password);
  u.pathname = `/${database}`;
  return `${u.toString()}${query}`;
}

beforeAll(async () => {
  tmp = tempDir('packops-pg-auth-');
  const db = await freshPgDatabase('auth');
  database = new URL(db).pathname.slice(1);
  host = new URL(db).hostname;
  port = Number(new URL(db).port);
  // (Roles are server-wide: the password is set again by every run.)
  await rawQuery(TEST_PG!, `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} LOGIN; END IF; END $$`);
  await rawQuery(TEST_PG!, `SET password_encryption = 'scram-sha-256'; ALTER ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
  await rawQuery(TEST_PG!, `ALTER DATABASE ${database} OWNER TO ${ROLE}`);
  await rawQuery(db, `ALTER SCHEMA public OWNER TO ${ROLE}`);
}, 120_000);
afterAll(() => tmp.cleanup());

function neverShown(r: RunResult): void {
  for (const s of [PASSWORD, encodeURIComponent(PASSWORD), WRONG]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

describe('PostgreSQL password and TLS', () => {
  it('the server really asks this role for its password (scram-sha-256)', async () => {
    const rules = await rawQuery<{ auth_method: string }>(TEST_PG!, `SELECT auth_method FROM pg_hba_file_rules WHERE '${ROLE}' = ANY(user_name) AND type = 'host'`);
    expect(rules.map((r) => r.auth_method)).toContain('scram-sha-256');
    const stored = await rawQuery<{ p: string }>(TEST_PG!, `SELECT left(rolpassword, 14) AS p FROM pg_authid WHERE rolname = '${ROLE}'`);
    expect(stored).toEqual([{ p: 'SCRAM-SHA-256$' }]);
  });

  it('logs in with the password in the URL and through PGPASSWORD, and never shows it', async () => {
    const migrate = await runCli(['ledger', 'migrate', '--db', url(PASSWORD), '--json'], { cwd: tmp.dir });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.json().db).toContain(`${ROLE}:***@`);
    neverShown(migrate);

    const viaEnv = await runCli(['creators', 'import', join(LEDGER_FIXTURES, 'creators.json'), '--db', url(), '--json'], {
      cwd: tmp.dir,
      env: { PGPASSWORD: PASSWORD },
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    neverShown(viaEnv);
    const imported = await runCli(['ledger', 'import', 'rates', join(LEDGER_FIXTURES, 'rates.csv'), '--db', url(), '--json', '--verbose'], {
      cwd: tmp.dir,
      env: { PGPASSWORD: PASSWORD },
    });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json().imported).toBeGreaterThan(0);
    neverShown(imported);
    // The rows are there, written as the role.
    const owners = await rawQuery<{ o: string }>(pgUrl(database), "SELECT tableowner AS o FROM pg_tables WHERE tablename = 'fx_rates'");
    expect(owners).toEqual([{ o: ROLE }]);
  });

  it('a wrong or missing password is LEDGER_UNREACHABLE (exit 3), naming host, port and database', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      [url(WRONG), {}],
      [url(), { PGPASSWORD: WRONG }],
      [url(), {}],
    ];
    for (const [db, env] of cases) {
      const r = await runCli(['payouts', 'report', '--period', '2026-10', '--db', db, '--json'], { cwd: tmp.dir, env: { PGPASSWORD: '', ...env } });
      expect(r.code, r.stderr).toBe(3);
      const error = r.json().error;
      expect(error).toMatchObject({ code: 'LEDGER_UNREACHABLE', details: { host, port, database } });
      expect(error.message).toMatch(/password authentication failed|password/i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      neverShown(r);
    }
  });

  it('sslmode=require against a server without TLS is LEDGER_UNREACHABLE, without the password', async () => {
    const tls = await rawQuery<{ ssl: string }>(TEST_PG!, 'SHOW ssl');
    expect(tls).toEqual([{ ssl: 'off' }]);
    for (const [db, env] of [
      [url(PASSWORD, '?sslmode=require'), {}],
      [url(), { PGPASSWORD: PASSWORD, PGSSLMODE: 'require' }],
    ] as Array<[string, Record<string, string>]>) {
      const r = await runCli(['ledger', 'migrate', '--db', db, '--json'], { cwd: tmp.dir, env });
      expect(r.code, r.stderr).toBe(3);
      const error = r.json().error;
      expect(error).toMatchObject({ code: 'LEDGER_UNREACHABLE', details: { host, port, database } });
      expect(error.message).toContain(`${host}:${port}, database ${database}`);
      expect(error.message).toMatch(/SSL/i);
      neverShown(r);
      const pretty = await runCli(['ledger', 'migrate', '--db', db], { cwd: tmp.dir, env });
      expect(pretty.code).toBe(3);
      expect(pretty.stderr).toMatch(/LEDGER_UNREACHABLE/);
      neverShown(pretty);
    }
    // sslmode=prefer (the default) falls back to a plain connection and works.
    const prefer = await runCli(['ledger', 'migrate', '--db', url(PASSWORD, '?sslmode=prefer'), '--json'], { cwd: tmp.dir });
    expect(prefer.code, prefer.stderr).toBe(0);
    neverShown(prefer);
  });

  it('a server that refuses the session for another reason (a FATAL at start-up) is LEDGER_UNREACHABLE, not exit 70', async () => {
    // session_preload_libraries naming a file that does not exist: the server accepts the
    // login, then ends the session with FATAL "could not access file" (SQLSTATE 58P01).
    const broken = await freshPgDatabase('fatal-start');
    const name = new URL(broken).pathname.slice(1);
    await rawQuery(TEST_PG!, `ALTER DATABASE ${name} SET session_preload_libraries = 'packops_no_such_library'`);
    const r = await runCli(['payouts', 'report', '--period', '2026-10', '--db', broken, '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(3);
    const error = r.json().error;
    expect(error).toMatchObject({ code: 'LEDGER_UNREACHABLE', details: { host, port, database: name } });
    expect(error.message).toMatch(/packops_no_such_library/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

