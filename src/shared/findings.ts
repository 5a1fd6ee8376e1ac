/**
 * Findings are data: every check (validate, assets, verify) returns them, and the
 * reporters in src/cli/reporters turn the same findings into pretty, JSON, GitHub,
 * JUnit or SARIF output. Codes are a stable contract (PRODUCT.md §11): never rename.
 */
import { own } from './lookup.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  code: string;
  severity: Severity;
  /** The file the finding is about, relative to the working directory where possible. */
  file?: string;
  /** JSON pointer into `file` (RFC 6901), where the finding is about a JSON value. */
  pointer?: string;
  /** 1-based line and column of the offending value in `file`. */
  line?: number;
  column?: number;
  /** Row number, for findings about data rows. */
  row?: number;
  message: string;
  hint?: string;
}

export interface CheckResult {
  /** What was checked: a pack folder, a manifest, an archive. */
  target: string;
  ok: boolean;
  findings: Finding[];
  /** Extra per-target data some checks add (variants written, archive entries...). */
  [extra: string]: unknown;
  /** The text of the files the findings point into, as the check read it (see `withSourceText`). */
  [SOURCE_TEXTS]?: ReadonlyMap<string, string>;
}

/**
 * Key of a result's source texts: a symbol, so the texts never reach the JSON, SARIF or
 * JUnit output, and survive a spread of the result.
 */
export const SOURCE_TEXTS: unique symbol = Symbol('packops.sourceTexts');

/**
 * Records on `result` the text the check read for `file` (as findings name it), for the
 * pretty reporter's code frames: a frame shows what was checked and never reads a path
 * again (which could be swapped, or be a link out of a pack, after the check). Only kept
 * when a finding points into the file.
 */
export function withSourceText<T extends CheckResult>(result: T, file: string, text: string | undefined): T {
  if (text === undefined || !result.findings.some((f) => f.file === file && f.line !== undefined)) return result;
  const texts = new Map(result[SOURCE_TEXTS] ?? []);
  texts.set(file, text);
  result[SOURCE_TEXTS] = texts;
  return result;
}

export interface CheckReport {
  ok: boolean;
  results: CheckResult[];
}

/** A target is ok when it has no errors (and, under --strict, no warnings). */
export function isOk(findings: readonly Finding[], strict = false): boolean {
  return !findings.some((f) => f.severity === 'error' || (strict && f.severity === 'warning'));
}

export function makeReport(results: CheckResult[]): CheckReport {
  return { ok: results.every((r) => r.ok), results };
}

/**
 * Documentation of every stable code: a one-line title used by the SARIF rules,
 * the JUnit test names and the README tables. Every code packops throws or reports is here
 * and in the README (test/shared/codes.test.ts reads the sources to hold both).
 */
export const CODES = {
  // manifest
  MANIFEST_UNREADABLE: 'The manifest is missing, not strict UTF-8 JSON, too large or too deeply nested',
  SCHEMA: 'The manifest does not match schemas/pack.schema.json',
  ASSET_ID_DUPLICATE: 'Two assets share one id',
  COVER_UNKNOWN: 'The cover names no asset of the pack',
  AVAILABILITY_WINDOW: 'availability.until is before availability.from',
  AGE_RANGE: 'The age range is outside 0–12 or min is greater than max',
  CURRENCY: 'A currency is not an ISO 4217 code, or an amount does not fit it',
  OBJECTIVES_MISSING: 'An educational pack lists no educational objectives',
  PROFILE: 'A rule of the chosen profile (first-party, creator, ugc) is not met',
  TEXT_INAPPROPRIATE: 'A name or text contains language unsuitable for children',
  // any command: the command line, config, files in (PRODUCT.md §3, §11)
  USAGE: 'Unknown flag, missing argument or bad value (exit 2)',
  PATH_NOT_FOUND: 'A path given on the command line (a target, a file, the ledger) does not exist',
  PATH_UNREADABLE: 'A target exists but cannot be looked at (no permission, a broken path)',
  IO_ERROR: 'The system refused to read or write a file (the errno is in details)',
  CONFIG_UNREADABLE: 'The config file cannot be read or is not a JSON object',
  CONFIG_INVALID: 'A setting in the config file has the wrong type or value',
  SOURCE_DATE_EPOCH_INVALID: 'SOURCE_DATE_EPOCH is not a whole number of seconds since 1970',
  INTERNAL: 'An internal error (exit 70): a bug to report; --verbose shows the stack',
  PACK_EXISTS: 'init: the folder already has a pack.json',
  // asset files
  PATH_UNSAFE: 'An asset path is absolute, uses .. or backslashes, or leaves the pack folder; or pack.json links out of it',
  ASSET_MISSING: 'An asset file does not exist',
  ASSET_FORMAT: 'An asset file is not a supported format, or not the format its name says',
  ASSET_CORRUPT: 'An asset file is truncated or corrupt',
  ASSET_TOO_SMALL: 'An image is smaller than its type allows',
  ASSET_TOO_LARGE: 'An image is larger than its type allows (pixels; decompression bombs included)',
  ASSET_FILE_TOO_BIG: 'An asset file is larger than its type allows (bytes)',
  ASSET_NO_ALPHA: 'A cut-out image has no alpha channel',
  ASSET_ANIMATED: 'An animated image (more than one frame): the app shows its first frame only',
  VARIANT_OVER_BUDGET: 'An optimised variant is over its byte budget',
  LOCK_MISSING: 'No assets.lock.json in the variants folder (run packops assets first)',
  VARIANT_CHANGED: 'A variant file changed after assets.lock.json was written',
  VARIANTS_MISSING: 'assets.lock.json lists no variants for an asset of the manifest',
  VARIANT_PATH_UNSAFE: 'A variant path in assets.lock.json is unsafe (absolute, .., a reserved name, another shape, or behind a link)',
  VARIANT_PATH_DUPLICATE: 'Two variants would be one archive entry',
  // archives
  ZIP_CORRUPT: 'The archive is not a readable zip file',
  ZIP_UNSAFE_PATH: 'An archive entry name is absolute, uses .. or backslashes, a drive letter, or is too long to extract',
  ZIP_DUPLICATE_ENTRY: 'Two archive entries share one name',
  ZIP_LINK: 'An archive entry is a symbolic link',
  ZIP_BOMB: 'An archive entry or the whole archive unpacks beyond the size or ratio limits',
  INTEGRITY_MISSING_FILE: 'A file listed in INTEGRITY.json is not in the archive',
  INTEGRITY_EXTRA_FILE: 'The archive holds a file INTEGRITY.json does not list',
  INTEGRITY_MISMATCH: 'A file does not match the size or SHA-256 INTEGRITY.json lists',
  SIGNATURE_MISSING: 'A signature is missing',
  SIGNATURE_INVALID: 'A signature does not verify',
  SIGNATURE_UNTRUSTED_KEY: 'A signature was made by a key that is not trusted',
  SIGNATURE_COMMENT_MISMATCH: 'The signed trusted comment names another slug or version',
  SIGNATURE_KEY_UNRECORDED: 'catalog publish: the ledger registered the pack before it kept signing keys (add the archive again)',
  KEY_INVALID: 'A key file is not a minisign key',
  KEY_EXISTS: 'keygen: a key file already exists (--force replaces it)',
  KEY_MISMATCH: 'The public key given is not the public half of the signing key',
  KEY_PASSWORD_REQUIRED: 'A password is needed for the secret key and none was given (or an empty one)',
  KEY_PASSWORD_WRONG: 'The password does not open the secret key',
  KEY_PASSWORD_MISMATCH: 'keygen: the two passwords typed differ',
  SIGNATURE_UNREADABLE: 'The system refused to read a detached signature file (no permission, an I/O error)',
  REBUILD_MISMATCH: 'Rebuilding an archive from its sources did not give the same bytes',
  // ledger
  ROW_INVALID: 'A data row has an invalid value',
  ROW_TIMEZONE_MISSING: 'A timestamp has no time zone',
  ROW_CONSENT_MISSING: 'A sale has no parental consent reference',
  ROW_PRODUCT_UNKNOWN: 'A row names a product that is not in the ledger',
  ROW_REFUND_UNKNOWN: 'A refund names a sale that is not in the ledger',
  ROW_REFUND_EXCEEDS: 'Refunds of a sale exceed the sale',
  MONTH_TOTAL_TOO_LARGE: "A month's sales in one currency add up past the bound that keeps every reported total exact",
  ROW_DUPLICATE_IN_FILE: 'A transaction appears twice in one file',
  ROWS_INVALID: 'An import has bad rows (each listed with its row, column and ROW_* code); nothing was imported',
  IMPORT_HEADER: 'A CSV import has no header row, or its header lacks a required column',
  CSV_MALFORMED: 'A CSV file is not well-formed (quotes, field counts, encoding)',
  PERIOD_ORDER: 'Months close in order: an earlier month is still open, or a later one is already closed',
  PERIOD_UNREADABLE: 'A closed month\'s stored report is missing',
  TIERS_MISSING: 'The ledger holds no creator tiers',
  CREATOR_UNKNOWN: 'Statements name creators that are not in the ledger',
  PERIOD_CLOSED: 'The period is closed',
  PERIOD_OPEN: 'The month has not ended yet, so it cannot be closed',
  FX_RATE_MISSING: 'No exchange rate for a currency and month',
  LEDGER_TOO_NEW: 'The ledger was made by a newer packops',
  LEDGER_OUTDATED: 'The ledger needs migrations (run packops ledger migrate)',
  LEDGER_BUSY: 'Another process kept the ledger locked past the wait',
  LEDGER_UNREADABLE: '--db names something that is not a ledger, or a ledger that cannot be read',
  LEDGER_UNSUPPORTED: '--db is a URL packops cannot use',
  LEDGER_UNREACHABLE: 'The PostgreSQL ledger cannot be reached, or the connection was lost (nothing written)',
  LEDGER_REFUSED: 'The ledger\'s storage refused the work: a full disk or temporary folder, an I/O error, a PostgreSQL role without the rights or read-only, a server out of resources or past a statement timeout (nothing written)',
  LEDGER_NOT_EMPTY: 'ledger copy: the target ledger already holds rows',
  LEDGER_TEXT_INVALID: 'PostgreSQL refused text it cannot store (U+0000, or a character outside the database encoding); nothing written',
  LEDGER_COPY_MISMATCH: 'ledger copy: row counts or digests of the copy disagree with the source (nothing kept)',
  PACK_VERSION_CONFLICT: 'Another archive is registered under the same slug and version',
  PACK_OWNER_CHANGED: 'A new version names another creator or collaboration than the pack\'s registered versions',
  PACK_NOT_LIVE: 'A pack has no live version (published by the day, not a pre-release) to price from',
  BUNDLE_EMPTY: 'No pack matches the bundle',
  BUNDLE_INVALID: 'Bad bundle or collection arguments: the slug, name, packs (two at least, none twice), price, discount, season or days',
  BUNDLE_EXISTS: 'A different bundle already has this slug',
  BUNDLE_SLUG_TAKEN: 'A bundle slug is already a pack\'s slug',
  DISCOUNT_INVALID: '--discount is not a decimal fraction from 0 up to 1',
  PACK_UNKNOWN: 'A pack named is not registered in the ledger',
  PACK_PRICE_CURRENCY: 'A pack of a bundle has its list price in a currency other than USD',
  OWNER_UNKNOWN: 'A pack\'s creator is neither a creator nor a collaboration in the ledger',
  ARCHIVE_MISSING: 'A registered archive no longer exists at the path it was registered from',
  ARCHIVE_CHANGED: 'A registered archive no longer matches what the ledger registered',
  CREATORS_INVALID: 'A creators file breaks the schema or a rule (each problem in details.problems)',
  // creators file problems (details.problems of CREATORS_INVALID)
  ID_DUPLICATE: 'A creator or collaboration id, or a collaboration member, is listed twice',
  MEMBER_UNKNOWN: 'A collaboration member is not a creator (in the file or the ledger)',
  LEAD_NOT_MEMBER: 'A collaboration\'s lead is not one of its members',
  SHARES: 'A member\'s share is not above 0, or the shares do not sum to exactly 100',
  TEXT_INVALID: 'A creator or collaboration name holds U+0000 (NUL), or a payoutRef holds a control, format or hidden whitespace character',
  LEDGER_CORRUPT: 'A value stored in the ledger is not what packops wrote (the message names table, row and column)',
  PUBLISHED_AT_INVALID: 'A --published-at is not YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm) with a real date, time and offset',
  // subscriptions (§14)
  PLAN_INVALID: 'A subscription plan has an invalid id, name, length, price or store product id',
  PLAN_EXISTS: 'A different subscription plan already has this id',
  PRODUCT_ID_CONFLICT: 'A product name (slug, plan id or store product id) already names another pack, bundle or plan',
  // files in and out (PRODUCT.md §3)
  LOCALES_UNSUPPORTED: 'The pack has a locales/ folder; locale files are not validated or shipped yet',
  INPUT_NOT_REGULAR: 'An input path is a FIFO, device, socket, folder or a file whose size cannot be trusted, not a regular file',
  INPUT_TOO_LARGE: 'An input file (or one line or record of it) is larger than packops reads',
  OUTPUT_NOT_REGULAR: 'An output path names an existing device node, FIFO or socket, which packops never replaces',
  OUTPUT_UNWRITABLE: 'An output folder or file cannot be made or written (a file in the way, a link out of the folder, /proc, no permission)',
  // catalog inputs
  MARKET_INVALID: 'A market key or --market is not an assigned ISO 3166-1 alpha-2 country code',
  BASE_URL_INVALID: '--base-url is not a plain absolute http(s) URL (user info, a query or a fragment, even empty)',
  CATALOG_UNREADABLE: 'A catalog file to compare cannot be read or is not JSON',
  CATALOG_INVALID: 'A catalog file to compare is not a catalog feed',
  CATALOG_DATA_INVALID: 'The catalog built from the ledger does not match schemas/catalog.schema.json',
  OUTPUT_NOT_DIRECTORY: 'An output path exists and is not a folder',
  OUTPUT_NOT_EMPTY: 'An output folder holds files packops did not write, and would be replaced',
  OUTPUT_BUSY: 'Another packops process kept writing the same output (archive or site) past the wait for its lock',
  // statements (pages)
  CHROMIUM_MISSING: 'PDF statements need headless Chromium, and none was found or it would not start',
  PDF_PRINT_FAILED: 'Chromium stopped or failed while printing a page to PDF; no PDF was written',
  STATEMENT_FILE_NAME: 'A creator id cannot name a statement file',
  // store reports
  CONSENT_MISSING: 'A store sale that no purchase record (with parental consent) accounts for',
  REPORT_FORMAT_UNKNOWN: "A file is not the store report the command reads (another store's, or an unknown layout)",
  REPORT_TOTALS_MISMATCH: "A store report's own totals disagree with its lines",
  REPORT_TRUNCATED: 'A store report ends before its end (no trailer, an unclosed quote, a cut-off archive)',
  CORRECTION_CONFLICT: 'A corrected store report would strand refunds of its sales or, without --replace, delete transactions its predecessor wrote',
} as const satisfies Record<string, string>;

export type StableCode = keyof typeof CODES;

/** Title of a code; domains may add codes of their own, which fall back to the code. */
export function codeTitle(code: string): string {
  return own<string>(CODES, code) ?? code;
}
