/**
 * A ledger seeded as `npm run demo` leaves it before the imports: the fixture creators,
 * the four fixture packs registered (from their pack.json, with a stand-in archive hash)
 * and the starter bundle. Used by the ledger, pricing and reliability tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { openLedger, type Ledger } from '../../src/ledger/db.js';
import { importCreators } from '../../src/ledger/creators.js';
import { registerPacks } from '../../src/ledger/catalog.js';
import { createBundle } from '../../src/pricing/bundles.js';
import { importFile } from '../../src/ledger/import/index.js';
import type { PackManifest } from '../../src/manifest/types.js';

export const PACK_SLUGS = ['ocean-creatures', 'forest-scenes', 'counting-garden', 'winter-wonders'] as const;
export const LEDGER_FIXTURES = join(FIXTURES, 'ledger');

export function fixtureManifest(slug: string): PackManifest {
  return JSON.parse(readFileSync(join(FIXTURES, 'packs', slug, 'pack.json'), 'utf8')) as PackManifest;
}

/** Opens (creating) the ledger at `path` and seeds it; the caller closes it. */
export async function seedLedger(path: string): Promise<Ledger> {
  const ledger = await openLedger(path);
  await importCreators(ledger, join(LEDGER_FIXTURES, 'creators.json'));
  await registerPacks(
    ledger,
    PACK_SLUGS.map((slug) => ({
      manifest: fixtureManifest(slug),
      sha256: slug.padEnd(64, '0').slice(0, 64),
      bytes: 1000,
      archivePath: `/archives/${slug}-1.0.0.zip`,
      publishedAt: '2026-09-01T00:00:00Z',
    })),
  );
  await createBundle(ledger, {
    slug: 'starter-bundle',
    name: 'Starter Bundle',
    packs: ['ocean-creatures', 'forest-scenes', 'counting-garden'],
    discount: '0.25',
    charm: true,
  });
  return ledger;
}

export async function count(ledger: Ledger, table: 'sales' | 'reviews' | 'fx_rates' | 'import_batches' | 'quarantine'): Promise<number> {
  const r = await ledger.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The error a promise is rejected with (fails the test when it resolves). */
export async function refusal<E>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected the call to be refused');
}

/** Seeds the ledger at `path` (see seedLedger), imports the fixture FX rates, and closes it. */
export async function seedWithRates(path: string): Promise<string> {
  const ledger = await seedLedger(path);
  await importFile(ledger, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  await ledger.close();
  return path;
}
