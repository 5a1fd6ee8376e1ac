/**
 * A seeded SQLite ledger made once per test file, and fresh copies of it: the setup of the
 * spawned-CLI import tests (a copy is a file copy, not a second seeding). Call at the top
 * level of a test file; the folder is removed after the file's tests.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { seedLedger } from './seed.js';

export interface SeededCopies {
  /** The test file's temporary folder. */
  dir(): string;
  /** A fresh copy of the seeded ledger. */
  freshDb(): string;
  /** `text` written to a new file named after `name` in the folder. */
  file(name: string, text: string): string;
}

export function seededCopies(): SeededCopies {
  let tmp: ReturnType<typeof tempDir>;
  let seeded = '';
  let n = 0;
  beforeAll(async () => {
    tmp = tempDir();
    seeded = join(tmp.dir, 'seeded.db');
    await (await seedLedger(seeded)).close();
  });
  afterAll(() => tmp.cleanup());
  return {
    dir: () => tmp.dir,
    freshDb() {
      const db = join(tmp.dir, `l${++n}.db`);
      cpSync(seeded, db);
      return db;
    },
    file(name, text) {
      const path = join(tmp.dir, `${++n}-${name}`);
      writeFileSync(path, text);
      return path;
    },
  };
}
