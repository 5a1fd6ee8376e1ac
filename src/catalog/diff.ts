/**
 * `catalog diff`: what changed between two catalog.json files. Reading is lenient: any
 * feed that has the fields the comparison needs (packs with slug and version, prices,
 * bundles) is diffed, whoever wrote it; a file that is not JSON or lacks them is an
 * input error naming the file and the JSON pointer.
 */
import { inputError } from '../shared/errors.js';
import { pointerEscape } from '../manifest/position.js';
import { isCountryCode } from '../shared/countries.js';
import { readInputText } from '../shared/input.js';

/** A catalog file larger than this is refused unread. */
export const MAX_DIFF_INPUT_BYTES = 64 * 1024 * 1024;
import { compareCodePoints } from '../shared/money.js';
import { compareVersions } from '../shared/version.js';

export interface DiffMoney {
  amountMinor: number;
  currency: string;
}

interface DiffPack {
  slug: string;
  version: string;
  name: string | null;
  price: DiffMoney | null;
  /** Local prices by ISO 3166-1 country (a Map: keys are data, never object properties). */
  markets: Map<string, DiffMoney>;
  sha256: string | null;
}

interface DiffBundle {
  slug: string;
  name: string | null;
  price: DiffMoney | null;
  packs: string[];
}

export interface DiffInput {
  generatedAt: string | null;
  packs: DiffPack[];
  bundles: DiffBundle[];
}

/** The default (list) price is market "*"; local prices are keyed by country. */
export const LIST_PRICE = '*';

export interface PriceChange {
  market: string;
  from: DiffMoney | null;
  to: DiffMoney | null;
}

export interface CatalogDiff {
  changed: boolean;
  old: { file: string; generatedAt: string | null; packs: number; bundles: number };
  new: { file: string; generatedAt: string | null; packs: number; bundles: number };
  packs: {
    added: Array<{ slug: string; version: string; name: string | null; price: DiffMoney | null }>;
    removed: Array<{ slug: string; version: string; name: string | null }>;
    reversioned: Array<{ slug: string; from: string; to: string; direction: 'upgrade' | 'downgrade' }>;
    /** Same slug and version, different archive bytes: a registered version must never change. */
    rebuilt: Array<{ slug: string; version: string; from: string; to: string }>;
    repriced: Array<{ slug: string; changes: PriceChange[] }>;
  };
  bundles: {
    added: Array<{ slug: string; name: string | null; price: DiffMoney | null; packs: string[] }>;
    removed: Array<{ slug: string; name: string | null }>;
    repriced: Array<{ slug: string; from: DiffMoney | null; to: DiffMoney | null }>;
    /** Packs added to or removed from a bundle. */
    recomposed: Array<{ slug: string; added: string[]; removed: string[] }>;
  };
}

type Json = unknown;

function fail(file: string, pointer: string, message: string): never {
  throw inputError('CATALOG_INVALID', `${file}: ${message}${pointer ? ` (at ${pointer})` : ''}.`, {
    details: { file, pointer },
    hint: 'catalog diff reads catalog.json files as `packops catalog publish` writes them (schemas/catalog.schema.json).',
  });
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readMoney(v: Json, file: string, pointer: string): DiffMoney | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v) || !Number.isSafeInteger(v.amountMinor) || typeof v.currency !== 'string') {
    fail(file, pointer, 'a price must be {"amountMinor": <integer>, "currency": "<ISO 4217>"}');
  }
  return { amountMinor: v.amountMinor as number, currency: v.currency };
}

function readString(v: Json, file: string, pointer: string): string {
  if (typeof v !== 'string' || v === '') fail(file, pointer, 'expected a non-empty string');
  return v;
}

/** Reads a catalog feed from parsed JSON, keeping only what the diff compares. */
export function parseCatalogForDiff(value: Json, file: string): DiffInput {
  if (!isObject(value)) fail(file, '', 'a catalog must be a JSON object');
  if (!Array.isArray(value.packs)) fail(file, '/packs', 'a catalog must have a "packs" array');
  if (value.bundles !== undefined && !Array.isArray(value.bundles)) fail(file, '/bundles', '"bundles" must be an array');
  const seen = new Set<string>();
  const packs = value.packs.map((p: Json, i: number): DiffPack => {
    const at = `/packs/${i}`;
    if (!isObject(p)) fail(file, at, 'a pack must be an object');
    const slug = readString(p.slug, file, `${at}/slug`);
    if (seen.has(slug)) fail(file, `${at}/slug`, `the pack "${slug}" appears twice`);
    seen.add(slug);
    const markets = new Map<string, DiffMoney>();
    if (p.markets !== undefined && p.markets !== null) {
      if (!isObject(p.markets)) fail(file, `${at}/markets`, '"markets" must be an object keyed by country');
      for (const [country, m] of Object.entries(p.markets)) {
        const pointer = `${at}/markets/${pointerEscape(country)}`;
        if (!isCountryCode(country)) {
          throw inputError('MARKET_INVALID', `${file}: the market key ${JSON.stringify(country)} is not an ISO 3166-1 alpha-2 country code (at ${pointer}).`, {
            details: { file, pointer },
            hint: 'Markets are keyed by assigned ISO 3166-1 alpha-2 codes in capitals, such as GB or JP.',
          });
        }
        const money = readMoney(m, file, pointer);
        if (money) markets.set(country, money);
      }
    }
    const archive = isObject(p.archive) ? p.archive : undefined;
    return {
      slug,
      version: readString(p.version, file, `${at}/version`),
      name: typeof p.name === 'string' ? p.name : null,
      price: readMoney(p.price, file, `${at}/price`),
      markets,
      sha256: archive && typeof archive.sha256 === 'string' ? archive.sha256 : null,
    };
  });
  const bundleSeen = new Set<string>();
  const bundles = ((value.bundles as Json[] | undefined) ?? []).map((b: Json, i: number): DiffBundle => {
    const at = `/bundles/${i}`;
    if (!isObject(b)) fail(file, at, 'a bundle must be an object');
    const slug = readString(b.slug, file, `${at}/slug`);
    if (bundleSeen.has(slug)) fail(file, `${at}/slug`, `the bundle "${slug}" appears twice`);
    bundleSeen.add(slug);
    return {
      slug,
      name: typeof b.name === 'string' ? b.name : null,
      price: readMoney(b.price, file, `${at}/price`),
      packs: Array.isArray(b.packs) ? b.packs.filter((s): s is string => typeof s === 'string') : [],
    };
  });
  return { generatedAt: typeof value.generatedAt === 'string' ? value.generatedAt : null, packs, bundles };
}

/** Reads and parses one catalog file; unreadable or malformed is an input error (exit 3). */
export async function readCatalogForDiff(path: string): Promise<DiffInput> {
  // A FIFO, device or folder is refused at once (exit 3), never read or waited on.
  const text = await readInputText(path, { what: 'catalog', maxBytes: MAX_DIFF_INPUT_BYTES, codes: { unreadable: 'CATALOG_UNREADABLE' } });
  let value: Json;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw inputError('CATALOG_UNREADABLE', `${path} is not valid JSON: ${(err as Error).message}`, { details: { path } });
  }
  return parseCatalogForDiff(value, path);
}

function sameMoney(a: DiffMoney | null, b: DiffMoney | null): boolean {
  return a === b || (a !== null && b !== null && a.amountMinor === b.amountMinor && a.currency === b.currency);
}

function priceChanges(a: DiffPack, b: DiffPack): PriceChange[] {
  const changes: PriceChange[] = [];
  if (!sameMoney(a.price, b.price)) changes.push({ market: LIST_PRICE, from: a.price, to: b.price });
  const markets = [...new Set([...a.markets.keys(), ...b.markets.keys()])].sort(compareCodePoints);
  for (const m of markets) {
    const from = a.markets.get(m) ?? null;
    const to = b.markets.get(m) ?? null;
    if (!sameMoney(from, to)) changes.push({ market: m, from, to });
  }
  return changes;
}

const bySlug = <T extends { slug: string }>(a: T, b: T) => compareCodePoints(a.slug, b.slug);

export function diffCatalogs(oldCat: DiffInput, newCat: DiffInput, files: { old: string; new: string }): CatalogDiff {
  const oldPacks = new Map(oldCat.packs.map((p) => [p.slug, p]));
  const newPacks = new Map(newCat.packs.map((p) => [p.slug, p]));
  const diff: CatalogDiff = {
    changed: false,
    old: { file: files.old, generatedAt: oldCat.generatedAt, packs: oldCat.packs.length, bundles: oldCat.bundles.length },
    new: { file: files.new, generatedAt: newCat.generatedAt, packs: newCat.packs.length, bundles: newCat.bundles.length },
    packs: { added: [], removed: [], reversioned: [], rebuilt: [], repriced: [] },
    bundles: { added: [], removed: [], repriced: [], recomposed: [] },
  };
  for (const p of [...newCat.packs].sort(bySlug)) {
    const before = oldPacks.get(p.slug);
    if (!before) {
      diff.packs.added.push({ slug: p.slug, version: p.version, name: p.name, price: p.price });
      continue;
    }
    if (before.version !== p.version) {
      diff.packs.reversioned.push({
        slug: p.slug,
        from: before.version,
        to: p.version,
        direction: compareVersions(p.version, before.version) >= 0 ? 'upgrade' : 'downgrade',
      });
    } else if (before.sha256 !== null && p.sha256 !== null && before.sha256 !== p.sha256) {
      diff.packs.rebuilt.push({ slug: p.slug, version: p.version, from: before.sha256, to: p.sha256 });
    }
    const changes = priceChanges(before, p);
    if (changes.length > 0) diff.packs.repriced.push({ slug: p.slug, changes });
  }
  for (const p of [...oldCat.packs].sort(bySlug)) {
    if (!newPacks.has(p.slug)) diff.packs.removed.push({ slug: p.slug, version: p.version, name: p.name });
  }
  const oldBundles = new Map(oldCat.bundles.map((b) => [b.slug, b]));
  const newBundles = new Map(newCat.bundles.map((b) => [b.slug, b]));
  for (const b of [...newCat.bundles].sort(bySlug)) {
    const before = oldBundles.get(b.slug);
    if (!before) {
      diff.bundles.added.push({ slug: b.slug, name: b.name, price: b.price, packs: b.packs });
      continue;
    }
    if (!sameMoney(before.price, b.price)) diff.bundles.repriced.push({ slug: b.slug, from: before.price, to: b.price });
    const added = b.packs.filter((s) => !before.packs.includes(s)).sort(compareCodePoints);
    const removed = before.packs.filter((s) => !b.packs.includes(s)).sort(compareCodePoints);
    if (added.length > 0 || removed.length > 0) diff.bundles.recomposed.push({ slug: b.slug, added, removed });
  }
  for (const b of [...oldCat.bundles].sort(bySlug)) {
    if (!newBundles.has(b.slug)) diff.bundles.removed.push({ slug: b.slug, name: b.name });
  }
  diff.changed =
    Object.values(diff.packs).some((list) => list.length > 0) || Object.values(diff.bundles).some((list) => list.length > 0);
  return diff;
}
