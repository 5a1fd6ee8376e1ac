/**
 * `ledger import rates`: currency,month,usd_per_unit (an exact decimal string). A rate
 * that differs from the stored one in an open month replaces it (counted as updated).
 */
import { parseDecimal, type Rational } from '../../shared/money.js';
import { cellText, currency, month } from '../fields.js';
import { collect, type Importer } from './pipeline.js';

interface RateParsed {
  currency: string;
  month: string;
  rate: Rational;
  text: string;
}

/** The canonical text of a positive decimal: no leading or trailing zeros ("0.00640" → "0.0064"). */
export function canonicalDecimal(r: Rational): string {
  const digits = String(r.den).length - 1;
  const neg = r.num < 0n;
  let s = (neg ? -r.num : r.num).toString().padStart(digits + 1, '0');
  let int = s.slice(0, s.length - digits);
  let frac = digits ? s.slice(s.length - digits) : '';
  frac = frac.replace(/0+$/, '');
  int = int.replace(/^0+(?=\d)/, '');
  s = frac ? `${int}.${frac}` : int;
  return neg ? `-${s}` : s;
}

function sameRational(a: Rational, b: Rational): boolean {
  return a.num * b.den === b.num * a.den;
}

export function ratesImporter(): Importer<RateParsed> {
  const seen = new Map<string, number>();
  return {
    kind: 'rates',
    columns: { required: ['currency', 'month', 'usd_per_unit'], optional: [] },
    table: 'fx_rates',
    insertColumns: ['currency', 'month', 'usd_per_unit', 'batch_id'],
    async init() {},
    parse(rec) {
      const [vCurrency, vMonth, vRate] = rec.cells;
      const cur = currency('currency', vCurrency);
      const m = month('month', vMonth);
      const problems = collect(cur, m);
      const text = typeof vRate === 'number' ? '' : cellText(vRate).trim();
      const rate = parseDecimal(text);
      if (typeof vRate === 'number') {
        problems.push({ column: 'usd_per_unit', code: 'ROW_INVALID', message: 'usd_per_unit must be a decimal string ("1.2710"), not a JSON number, so no digit is lost.' });
      } else if (!rate || rate.num <= 0n) {
        problems.push({ column: 'usd_per_unit', code: 'ROW_INVALID', message: `usd_per_unit "${text}" is not a positive decimal (e.g. 1.2710 or 0.0064).` });
      } else if (cur.ok && cur.value === 'USD' && rate.num !== rate.den) {
        problems.push({ column: 'usd_per_unit', code: 'ROW_INVALID', message: 'The rate of USD to USD is 1.' });
      }
      if (!cur.ok || !m.ok) return { problems };
      const parsed = { currency: cur.value, month: m.value, rate: rate!, text: rate ? canonicalDecimal(rate) : '' };
      return { parsed, problems };
    },
    async check({ trx, closed }, items) {
      const currencies = [...new Set(items.map((i) => i.parsed?.currency).filter((x): x is string => !!x))];
      const months = [...new Set(items.map((i) => i.parsed?.month).filter((x): x is string => !!x))];
      const stored = new Map<string, string>();
      if (currencies.length) {
        const rows = await trx
          .selectFrom('fx_rates')
          .select(['currency', 'month', 'usd_per_unit'])
          .where('currency', 'in', currencies)
          .where('month', 'in', months)
          .execute();
        for (const r of rows) stored.set(`${r.currency} ${r.month}`, r.usd_per_unit);
      }
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const key = `${p.currency} ${p.month}`;
        const first = seen.get(key);
        if (first !== undefined) {
          it.problems.push({ column: 'currency', code: 'ROW_DUPLICATE_IN_FILE', message: `The ${p.currency} rate for ${p.month} already appears in row ${first}.` });
          continue;
        }
        seen.set(key, it.rec.row);
        if (it.problems.length) continue;
        const old = stored.get(key);
        const same = old !== undefined && sameRational(parseDecimal(old)!, p.rate);
        if (same) {
          it.action = 'skip';
        } else if (closed.has(p.month)) {
          it.problems.push({
            column: 'usd_per_unit',
            code: 'PERIOD_CLOSED',
            message:
              old === undefined
                ? `${closed.describe(p.month)}; a rate cannot be added to it.`
                : `${closed.describe(p.month)} with ${p.currency} at ${old}; it cannot change to ${p.text}.`,
          });
        } else {
          it.action = old === undefined ? 'insert' : 'update';
        }
      }
    },
    period: (p) => ({ column: 'usd_per_unit', month: p.month }),
    values(p, batch) {
      return [p.currency, p.month, p.text, batch];
    },
    async update({ trx, batch }, p) {
      await trx
        .updateTable('fx_rates')
        .set({ usd_per_unit: p.text, batch_id: batch })
        .where('currency', '=', p.currency)
        .where('month', '=', p.month)
        .execute();
    },
  };
}
