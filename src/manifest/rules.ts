/**
 * Semantic rules of a manifest (PRODUCT.md §4), beyond what the JSON Schema says: each
 * problem with a dedicated code in §11 is reported with that code. The rules read an
 * already-parsed value of unknown shape defensively: a manifest that fails the schema
 * still gets every semantic finding that can be made about it.
 */
import { createRequire } from 'node:module';
import { isCountryCode } from '../shared/countries.js';
import type { Finding } from '../shared/findings.js';
import { isCurrencyCode } from '../shared/money.js';
import { pointerEscape } from './position.js';
import { closest, describeValue } from './schema-errors.js';
import { own } from '../shared/lookup.js';

export const PROFILES = ['first-party', 'creator', 'ugc'] as const;
export type Profile = (typeof PROFILES)[number];

/** Profile limits, in one place (README "Profiles"). */
export const PROFILE_RULES = {
  creator: { minAssets: 6, minDescriptionChars: 40 },
  ugc: { maxAssets: 20, maxAssetBytes: 5 * 1024 * 1024, formats: ['png', 'jpeg'] as const },
} as const;

export const MAX_AGE = 12;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


function finding(code: string, pointer: string, message: string, hint?: string, severity: 'error' | 'warning' = 'error'): Finding {
  return { code, severity, pointer, message, ...(hint ? { hint } : {}) };
}

/**
 * The profile a manifest is checked under: the requested one, except that a manifest
 * which declares itself user-generated (it has a `ugc` block) is always checked as ugc,
 * so that user-generated content can never skip the ugc screen.
 */
export function effectiveProfile(value: unknown, requested: Profile = 'first-party'): Profile {
  return isObject(value) && own(value, 'ugc') !== undefined ? 'ugc' : requested;
}

export function semanticFindings(value: unknown, requested: Profile = 'first-party'): Finding[] {
  if (!isObject(value)) return [];
  const profile = effectiveProfile(value, requested);
  const out: Finding[] = [];
  ageRange(value, out);
  currencies(value, out);
  objectives(value, out);
  const ids = assets(value, out);
  cover(value, ids, out);
  availability(value, out);
  profileRules(value, profile, out);
  return out;
}

function ageRange(m: Json, out: Finding[]): void {
  const range = own(m, 'ageRange');
  if (range === undefined) return;
  if (!isObject(range)) {
    out.push(finding('AGE_RANGE', '/ageRange', `ageRange must be an object such as {"min": 3, "max": 8}, not ${describeValue(range)}.`));
    return;
  }
  const ok: Record<string, number> = {};
  for (const side of ['min', 'max'] as const) {
    const v = own(range, side);
    if (v === undefined) continue;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_AGE) ok[side] = v;
    else {
      out.push(
        finding(
          'AGE_RANGE',
          `/ageRange/${side}`,
          `ageRange.${side} must be a whole number of years from 0 to ${MAX_AGE}, not ${describeValue(v)}.`,
          'The audience is children under 13.',
        ),
      );
    }
  }
  if (ok.min !== undefined && ok.max !== undefined && ok.min > ok.max) {
    out.push(
      finding('AGE_RANGE', '/ageRange', `ageRange.min (${ok.min}) is greater than ageRange.max (${ok.max}).`, 'Swap the two values.'),
    );
  }
}

const currencyMemo = new Map<string, boolean>();
/** isCurrencyCode, remembered: the same few codes recur across many manifests. */
function isIsoCurrency(code: string): boolean {
  let known = currencyMemo.get(code);
  if (known === undefined) currencyMemo.set(code, (known = isCurrencyCode(code)));
  return known;
}

/**
 * ISO 4217 codes whose minor unit is "N.A.": precious metals, bond-market units, the SDR,
 * the Sucre, the ADB unit, the testing code XTS and XXX ("no currency is involved"). They
 * are in the table but no price can be in them (an amountMinor in them means nothing).
 */
const NOT_MONEY = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);

function checkCurrency(money: unknown, pointer: string, out: Finding[]): string | undefined {
  if (!isObject(money)) return undefined;
  const code = own(money, 'currency');
  if (code === undefined) return undefined;
  if (typeof code === 'string' && NOT_MONEY.has(code)) {
    out.push(
      finding(
        'CURRENCY',
        `${pointer}/currency`,
        `"${code}" is an ISO 4217 code for something that is not a currency (${code === 'XXX' ? 'no currency involved' : code === 'XTS' ? 'testing' : 'a metal or a unit of account'}); a price cannot be in it.`,
        'Use the currency the store charges in, such as USD, GBP or JPY.',
      ),
    );
    return undefined;
  }
  if (typeof code === 'string' && isIsoCurrency(code)) return code;
  const upper = typeof code === 'string' ? code.toUpperCase() : '';
  out.push(
    finding(
      'CURRENCY',
      `${pointer}/currency`,
      `${describeValue(code)} is not an ISO 4217 currency code.`,
      isCurrencyCode(upper) ? `Write it in capitals: "${upper}".` : 'Use a three-letter ISO 4217 code such as USD, GBP or JPY.',
    ),
  );
  return undefined;
}

function currencies(m: Json, out: Finding[]): void {
  const price = own(m, 'price');
  const priceCurrency = checkCurrency(price, '/price', out);
  if (priceCurrency !== undefined && priceCurrency !== 'USD') {
    out.push(
      finding(
        'CURRENCY',
        '/price/currency',
        `price is the USD list price (bundles, seasonal totals and payout weights use it), so its currency must be "USD", not "${priceCurrency}".`,
        `Put the ${priceCurrency} price under "markets", keyed by country.`,
      ),
    );
  }
  const markets = own(m, 'markets');
  if (!isObject(markets)) return;
  for (const country of Object.keys(markets)) {
    const pointer = `/markets/${pointerEscape(country)}`;
    if (/^[A-Z]{2}$/.test(country) && !isCountryCode(country)) {
      out.push(
        finding(
          'SCHEMA',
          pointer,
          `"${country}" is not an ISO 3166-1 country code.`,
          country === 'UK' ? 'The United Kingdom is "GB".' : 'Markets are keyed by ISO 3166-1 alpha-2 codes such as GB or JP.',
        ),
      );
    }
    checkCurrency(own(markets, country), pointer, out);
  }
}

function objectives(m: Json, out: Finding[]): void {
  if (own(m, 'category') !== 'educational') return;
  const list = own(m, 'educationalObjectives');
  const real = Array.isArray(list) ? list.filter((o) => typeof o === 'string' && o.trim() !== '') : [];
  if (real.length === 0) {
    out.push(
      finding(
        'OBJECTIVES_MISSING',
        '/educationalObjectives',
        'An educational pack needs at least one entry in educationalObjectives.',
        'Say what a child learns, e.g. "educationalObjectives": ["count to 10"].',
      ),
    );
  }
}

/** Duplicate ids and unsafe paths; returns the asset ids (for the cover check). */
function assets(m: Json, out: Finding[]): string[] {
  const list = own(m, 'assets');
  if (!Array.isArray(list)) return [];
  const first = new Map<string, number>();
  list.forEach((asset: unknown, i) => {
    if (!isObject(asset)) return;
    const id = own(asset, 'id');
    if (typeof id === 'string') {
      const seen = first.get(id);
      if (seen === undefined) first.set(id, i);
      else {
        out.push(
          finding('ASSET_ID_DUPLICATE', `/assets/${i}/id`, `Asset id "${id}" is used by assets[${seen}] and assets[${i}].`, 'Asset ids must be unique within a pack.'),
        );
      }
    }
    const file = own(asset, 'file');
    if (typeof file === 'string') {
      const why = unsafePathReason(file);
      if (why) {
        out.push(
          finding('PATH_UNSAFE', `/assets/${i}/file`, `Asset path ${JSON.stringify(file)} ${why}.`, 'Use a relative POSIX path inside the pack folder, e.g. "assets/whale.png".'),
        );
      }
    }
  });
  return [...first.keys()];
}

const PLAIN_PATH = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

/**
 * Why a manifest path is unsafe, or undefined when it is a relative POSIX path that stays
 * inside the pack folder (lexically; links are checked against the file system later).
 */
export function unsafePathReason(file: string): string | undefined {
  // The common case in one test: segments of letters, digits, '_', '-' and '.', none
  // starting with '.', so no NUL, backslash, drive letter, leading '/', URL, '%' or '..'.
  if (PLAIN_PATH.test(file)) return undefined;
  if (file.includes('\0')) return 'contains a NUL character';
  if (file.includes('\\')) return 'uses backslashes';
  if (/^[A-Za-z]:/.test(file)) return 'starts with a drive letter';
  if (file.startsWith('/')) return 'is absolute';
  if (file.includes('://')) return 'is a URL';
  // "%2e%2e/%2e%2e/etc/passwd": harmless on disk, but a path that some layer (a URL, a
  // CDN, an unzip tool) could decode into a traversal is refused as such.
  if (file.includes('%')) {
    let decoded: string | undefined;
    try {
      decoded = decodeURIComponent(file);
    } catch {
      decoded = undefined;
    }
    if (decoded !== undefined && decoded !== file) {
      const why = unsafePathReason(decoded);
      if (why !== undefined && why !== 'names no file') return `is percent-encoded, and decoded it ${why}`;
    }
  }
  let named = false;
  for (const segment of file.split('/')) {
    if (segment === '..') return 'uses ".." to leave its folder';
    if (segment !== '' && segment !== '.') named = true;
  }
  return named ? undefined : 'names no file';
}

function cover(m: Json, ids: string[], out: Finding[]): void {
  const c = own(m, 'cover');
  if (typeof c !== 'string' || ids.length === 0 || ids.includes(c)) return;
  const guess = closest(c, ids);
  out.push(
    finding(
      'COVER_UNKNOWN',
      '/cover',
      `cover names "${c}", but no asset has that id${guess ? ` — did you mean "${guess}"?` : '.'}`,
      `Asset ids: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}.`,
    ),
  );
}

/** A real calendar date written YYYY-MM-DD, as a comparable number, or undefined. */
export function parseIsoDate(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t;
}

function availability(m: Json, out: Finding[]): void {
  const a = own(m, 'availability');
  if (!isObject(a)) return;
  const from = parseIsoDate(own(a, 'from'));
  const until = parseIsoDate(own(a, 'until'));
  if (from !== undefined && until !== undefined && until < from) {
    out.push(
      finding(
        'AVAILABILITY_WINDOW',
        '/availability/until',
        `availability.until (${String(own(a, 'until'))}) is before availability.from (${String(own(a, 'from'))}).`,
        'The window is inclusive: until must be the same day as from or later.',
      ),
    );
  }
}

function profileRules(m: Json, profile: Profile, out: Finding[]): void {
  const list = own(m, 'assets');
  const assetList = Array.isArray(list) ? list : [];
  const missingAlt = assetList
    .map((a: unknown, i) => ({ a, i }))
    .filter(({ a }) => isObject(a) && !(typeof own(a, 'altText') === 'string' && (own(a, 'altText') as string).trim() !== ''));
  if (profile === 'first-party' || profile === 'creator') {
    const severity = profile === 'creator' ? 'error' : 'warning';
    const why = profile === 'creator' ? 'The creator profile requires' : 'Screen readers need';
    if (own(m, 'cover') === undefined && assetList.length > 0) {
      out.push(finding('PROFILE', '/cover', `The pack names no cover asset.`, `${why} a cover: add "cover": "<asset id>".`, severity));
    }
    for (const { i } of missingAlt) {
      out.push(finding('PROFILE', `/assets/${i}/altText`, `assets[${i}] has no altText.`, `${why} a short description of every asset.`, severity));
    }
  }
  if (profile === 'creator') {
    const rules = PROFILE_RULES.creator;
    const description = own(m, 'description');
    const length = typeof description === 'string' ? [...description.trim()].length : 0;
    if (length < rules.minDescriptionChars) {
      out.push(
        finding(
          'PROFILE',
          '/description',
          description === undefined
            ? `The creator profile requires a description of at least ${rules.minDescriptionChars} characters.`
            : `The description has ${length} characters; the creator profile requires at least ${rules.minDescriptionChars}.`,
          'Tell families what is in the pack and how children can use it.',
        ),
      );
    }
    if (Array.isArray(list) && list.length < rules.minAssets) {
      out.push(
        finding('PROFILE', '/assets', `The pack has ${list.length} assets; the creator profile requires at least ${rules.minAssets}.`),
      );
    }
  }
  if (profile === 'ugc') {
    const rules = PROFILE_RULES.ugc;
    if (Array.isArray(list) && list.length > rules.maxAssets) {
      out.push(finding('PROFILE', '/assets', `The pack has ${list.length} assets; user-generated packs may have at most ${rules.maxAssets}.`));
    }
    const ugc = own(m, 'ugc');
    const ref = isObject(ugc) ? own(ugc, 'parentApprovalRef') : undefined;
    if (typeof ref !== 'string' || ref.trim() === '') {
      out.push(
        finding(
          'PROFILE',
          isObject(ugc) ? '/ugc/parentApprovalRef' : '/ugc',
          'User-generated packs need the reference of a parent\'s approval in ugc.parentApprovalRef.',
          'Add "ugc": {"parentApprovalRef": "<approval id>"}.',
        ),
      );
    }
    assetList.forEach((a: unknown, i) => {
      const file = isObject(a) ? own(a, 'file') : undefined;
      if (typeof file === 'string' && !/\.(png|jpe?g)$/i.test(file)) {
        out.push(finding('PROFILE', `/assets/${i}/file`, `${JSON.stringify(file)} is not a PNG or JPEG file; user-generated packs accept only those.`));
      }
    });
    screenTexts(m, out);
  }
}

/** Every name and text of a manifest, with its pointer (for the profanity screen). */
export function manifestTexts(m: Json): Array<{ pointer: string; text: string }> {
  const texts: Array<{ pointer: string; text: string }> = [];
  const add = (pointer: string, v: unknown, kebab = false) => {
    if (typeof v === 'string' && v !== '') texts.push({ pointer, text: kebab ? v.replace(/[-_]/g, ' ') : v });
  };
  for (const key of ['name', 'tagline', 'description']) add(`/${key}`, own(m, key));
  for (const key of ['slug', 'subcategory', 'creator', 'cover']) add(`/${key}`, own(m, key), true);
  for (const key of ['tags', 'educationalObjectives']) {
    const list = own(m, key);
    if (Array.isArray(list)) list.forEach((v: unknown, i) => add(`/${key}/${i}`, v, key === 'tags'));
  }
  const list = own(m, 'assets');
  if (Array.isArray(list)) {
    list.forEach((a: unknown, i) => {
      if (!isObject(a)) return;
      add(`/assets/${i}/id`, own(a, 'id'), true);
      add(`/assets/${i}/altText`, own(a, 'altText'));
      const file = own(a, 'file');
      if (typeof file === 'string') add(`/assets/${i}/file`, file.replace(/\.[a-z0-9]+$/i, ''), true);
    });
  }
  return texts;
}

interface Screen {
  find(text: string): string | undefined;
}
let screen: Screen | undefined;

/**
 * The profanity screen: the `obscenity` package's English dataset with its recommended
 * transformers (leetspeak, repeated letters, confusable characters). Loaded on first use.
 */
function profanityScreen(): Screen {
  if (screen) return screen;
  const require = createRequire(import.meta.url);
  const o = require('obscenity') as typeof import('obscenity');
  const matcher = new o.RegExpMatcher({ ...o.englishDataset.build(), ...o.englishRecommendedTransformers });
  screen = {
    find(text) {
      const match = matcher.getAllMatches(text, true)[0];
      if (!match) return undefined;
      return o.englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord ?? 'a word';
    },
  };
  return screen;
}

function screenTexts(m: Json, out: Finding[]): void {
  const s = profanityScreen();
  for (const { pointer, text } of manifestTexts(m)) {
    const word = s.find(text);
    if (word !== undefined) {
      out.push(
        finding(
          'TEXT_INAPPROPRIATE',
          pointer,
          `This text contains language unsuitable for children ("${censor(word)}").`,
          'Reword it; names and texts of user-generated packs are screened.',
        ),
      );
    }
  }
}

function censor(word: string): string {
  return word.length <= 1 ? '*' : `${word[0]}${'*'.repeat(word.length - 1)}`;
}
