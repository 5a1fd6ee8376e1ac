/**
 * Reads figures back out of statement pages, independently of the code that wrote them:
 * every `data-json` cell of the HTML (a JSON pointer and the text shown), and every money
 * figure in a PDF's text (`pdftotext -layout`). Money text is parsed by hand here
 * ("$1,234.56", "¥750", "-£2.10", "CHF 12.00"), not with the page kit.
 */
import { spawnSync } from 'node:child_process';

const EXPONENT: Record<string, number> = { USD: 2, GBP: 2, EUR: 2, JPY: 0, CHF: 2, KWD: 3 };
const SYMBOL: Record<string, string> = { $: 'USD', '£': 'GBP', '€': 'EUR', '¥': 'JPY' };

/** "-$1,234.56" in USD → -123456. Throws on anything that is not money in that currency. */
export function parseMoney(text: string, currency: string): number {
  const m = /^(-?)(?:([$£€¥])|([A-Z]{3}) )([\d,]+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not money: ${JSON.stringify(text)}`);
  const cur = m[2] ? SYMBOL[m[2]] : m[3];
  if (cur !== currency) throw new Error(`${text} is not in ${currency}`);
  const exp = EXPONENT[currency];
  if (exp === undefined) throw new Error(`no exponent for ${currency} in the test table`);
  const frac = m[5] ?? '';
  if (frac.length !== exp) throw new Error(`${text}: ${frac.length} decimals, ${currency} has ${exp}`);
  const minor = Number(`${m[4]!.replace(/,/g, '')}${frac}`);
  return m[1] === '-' ? -minor : minor;
}

/** Every money figure in free text (a PDF's), as "CUR:minor". */
export function moneyIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/-?(?:[$£€¥]|\b[A-Z]{3} )\d[\d,]*(?:\.\d+)?/g)) {
    const sym = /[$£€¥]/.exec(m[0]);
    const currency = sym ? SYMBOL[sym[0]]! : /[A-Z]{3}/.exec(m[0])![0];
    if (EXPONENT[currency] === undefined) continue;
    out.push(`${currency}:${parseMoney(m[0], currency)}`);
  }
  return out;
}

export interface Figure {
  pointer: string;
  kind: string;
  text: string;
}

const ENTITY: Record<string, string> = { '&#38;': '&', '&#60;': '<', '&#62;': '>', '&#34;': '"', '&#39;': "'" };

export function figuresIn(html: string): Figure[] {
  return [...html.matchAll(/data-json="([^"]+)" data-kind="([^"]+)">([^<]*)</g)].map((m) => ({
    pointer: m[1]!,
    kind: m[2]!,
    text: m[3]!.replace(/&#\d+;/g, (e) => ENTITY[e] ?? e),
  }));
}

export function resolvePointer(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) {
      throw new Error(`pointer ${pointer} does not resolve (at ${key})`);
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The value a figure shows, as the JSON holds it: minor units, null for "—", or the string. */
export function figureValue(f: Figure): number | string | null {
  if (f.kind.startsWith('money:')) return f.text === '—' ? null : parseMoney(f.text, f.kind.slice(6));
  return f.text;
}

export function pdfText(file: string): string {
  const r = spawnSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pdftotext ${file} failed: ${r.stderr}`);
  return r.stdout;
}
