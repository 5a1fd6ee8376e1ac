// A new ledger holds the family HMAC secret: it is created owner-only (0600), and so are the
// -wal and -shm files SQLite makes beside it.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('packops-ledger-mode-');
});
afterAll(() => tmp.cleanup());

describe('ledger file permissions', () => {
  it('a ledger created by a command is 0600, whatever the umask allows', async () => {
    const db = join(tmp.dir, 'new.db');
    const r = await runCli(['creators', 'import', join(FIXTURES, 'ledger', 'creators.json'), '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    for (const side of [`${db}-wal`, `${db}-shm`]) if (existsSync(side)) expect(statSync(side).mode & 0o077).toBe(0);
  });
});
