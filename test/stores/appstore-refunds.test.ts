/**
 * The App Store refund bound (src/ledger/import/appstore-refunds.ts): a refund's net against
 * its sale's net minus what was refunded of it (§7's cumulative rule, net against net since
 * Apple reports proceeds only), and the sale states loaded from a real ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/db.js';
import { loadAppleSales, takeRefund, type AppleSaleState } from '../../src/ledger/import/appstore-refunds.js';
import type { Tx } from '../../src/ledger/import/types.js';
import { tempDir } from '../helpers/cli.js';
import { seedLedger } from '../ledger/seed.js';

describe('takeRefund', () => {
  it('takes refunds up to the sale\'s net, cumulatively, and refuses the one that would pass it', () => {
    const sale: AppleSaleState = { currency: 'USD', net: 349n, refunded: 0n };
    expect(takeRefund('s1', sale, 'USD', 200n)).toBeUndefined();
    expect(sale.refunded).toBe(200n);
    const over = takeRefund('s1', sale, 'USD', 150n);
    expect(over).toEqual({ column: 'Extended Partner Share', code: 'ROW_REFUND_EXCEEDS', message: 'Refunds of s1 would reach 350 USD minor units of net; the sale had 349 (200 already refunded).' });
    expect(sale.refunded).toBe(200n); // a refused refund counts for nothing
    expect(takeRefund('s1', sale, 'USD', 149n)).toBeUndefined();
    expect(sale.refunded).toBe(349n);
    expect(takeRefund('s1', sale, 'USD', 1n)?.code).toBe('ROW_REFUND_EXCEEDS');
    expect(takeRefund('s1', sale, 'USD', 0n)).toBeUndefined(); // a promo unit's return (0.00)
  });

  it('refuses a negative refund and one in another currency; works past 2^53', () => {
    expect(takeRefund('s', { currency: 'USD', net: 10n, refunded: 0n }, 'USD', -1n)?.code).toBe('ROW_REFUND_EXCEEDS');
    expect(takeRefund('s', { currency: 'EUR', net: 10n, refunded: 0n }, 'USD', 5n)).toMatchObject({ code: 'ROW_INVALID', column: 'Partner Share Currency' });
    const big: AppleSaleState = { currency: 'USD', net: 2n ** 53n + 2n, refunded: 2n ** 53n };
    expect(takeRefund('s', big, 'USD', 2n)).toBeUndefined();
    expect(takeRefund('s', big, 'USD', 1n)?.code).toBe('ROW_REFUND_EXCEEDS');
  });
});

describe('loadAppleSales', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ledger: Ledger;
  beforeAll(async () => {
    tmp = tempDir('packops-apple-refunds-');
    ledger = await seedLedger(`${tmp.dir}/l.db`);
    const row = (id: string, kind: 'sale' | 'refund', amounts: [number | null, number | null, number | null, number | null], refundOf: string | null = null) => {
      const [gross, fee, tax, net] = amounts;
      return {
        store: 'appstore', transaction_id: id, kind, occurred_at: '2026-10-05T18:00:00.000Z', month: '2026-10', product: 'com.wondernest.pack.ocean',
        product_kind: 'pack', pack_slug: 'ocean-creatures', bundle_slug: null, country: 'US', currency: 'USD',
        gross_minor: gross, store_fee_minor: fee, tax_minor: tax, net_minor: net, consent_ref: kind === 'sale' ? 'vpc' : null, family_hmac: 'h', refund_of: refundOf, batch_id: 'b',
      } as const;
    };
    await ledger.db.insertInto('sales').values([
      row('a', 'sale', [null, null, null, 349]),
      row('a-r1', 'refund', [null, null, null, 100], 'a'),
      row('a-r2', 'refund', [null, null, null, 49], 'a'),
      // An App Store sale written by `ledger import sales`: gross, fee and tax known, no net.
      row('b', 'sale', [499, 150, 0, null]),
      row('b-r1', 'refund', [499, 150, 0, null], 'b'),
      row('c', 'sale', [null, null, null, 99]),
      row('bad', 'sale', [null, null, null, null]),
      // A refund in the ledger whose sale is not (yet) written: this chunk's sale counts it.
      row('p-r1', 'refund', [null, null, null, 50], 'p'),
    ] as never).execute();
  });
  afterAll(async () => {
    await ledger.close();
    tmp.cleanup();
  });
  const load = async (ids: string[], states = new Map<string, AppleSaleState>()) => {
    await ledger.db.transaction().execute((trx) => loadAppleSales(trx as unknown as Tx, ids, states));
    return states;
  };

  it('loads each named sale with its net and the nets of its stored refunds; refunds and unknown ids are not sales', async () => {
    const states = await load(['a', 'b', 'c', 'a-r1', 'nope', 'a']);
    expect(Object.fromEntries(states)).toEqual({
      a: { currency: 'USD', net: 349n, refunded: 149n },
      b: { currency: 'USD', net: 349n, refunded: 349n },
      c: { currency: 'USD', net: 99n, refunded: 0n },
    });
  });

  it('keeps a state already held (it carries this chunk\'s refunds)', async () => {
    const mine = new Map<string, AppleSaleState>([['a', { currency: 'USD', net: 349n, refunded: 300n }]]);
    expect((await load(['a', 'c'], mine)).get('a')).toEqual({ currency: 'USD', net: 349n, refunded: 300n });
  });

  it('a sale this chunk accepted (not written yet) is a sale too, with the refunds of it already in the ledger', async () => {
    const pending = new Map([['p', { currency: 'USD', net: 349n }], ['q', { currency: 'JPY', net: 119n }]]);
    const states = new Map<string, AppleSaleState>();
    await ledger.db.transaction().execute((trx) => loadAppleSales(trx as unknown as Tx, ['p', 'q', 'c'], states, pending));
    expect(Object.fromEntries(states)).toEqual({
      p: { currency: 'USD', net: 349n, refunded: 50n },
      q: { currency: 'JPY', net: 119n, refunded: 0n },
      c: { currency: 'USD', net: 99n, refunded: 0n },
    });
  });

  it('a sale with no net and no gross is LEDGER_CORRUPT naming it', async () => {
    await expect(load(['bad'])).rejects.toMatchObject({ code: 'LEDGER_CORRUPT', message: expect.stringContaining('transaction_id=bad') });
  });
});
