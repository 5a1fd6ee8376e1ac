/**
 * The ledger's tables as Kysely types (snake_case, as in the roadmap's `marketplace`
 * schema). Money columns are integer minor units; exact decimals (rates, percentages,
 * ratings) are TEXT holding a plain decimal string, or integer basis points; booleans are
 * integers 0/1 and timestamps are UTC ISO 8601 strings, so the same types serve SQLite
 * now and PostgreSQL later. Migrations in ./migrations create exactly these columns.
 */
import type { Selectable } from 'kysely';

/** Key/value facts about the ledger itself (the family_ref HMAC secret, creation time). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface CreatorsTable {
  id: string;
  name: string;
  payout_ref: string | null;
  created_at: string;
  updated_at: string;
}

/** The roadmap's four tiers (Bronze, Silver, Gold, Platinum), seeded by 0001_initial. */
export interface CreatorTiersTable {
  /** "Bronze" … "Platinum". */
  name: string;
  /** 1 (Bronze) … 4 (Platinum): higher is better. */
  rank: number;
  minimum_packs_published: number;
  /** Exact decimal string, e.g. "4.20". */
  minimum_average_rating: string;
  minimum_monthly_sales: number;
  minimum_months_active: number;
  /** Exact decimal string, e.g. "72.50". */
  revenue_share_percent: string;
  /** The same share in basis points: 7250. */
  revenue_share_bp: number;
  early_feature_access: number;
  marketing_support_level: number;
  custom_creator_page: number;
  priority_review_queue: number;
  /** Monthly sales needed for the bonus; null when the tier has no bonus. */
  monthly_bonus_threshold: number | null;
  /** Bonus in USD cents; null when the tier has no bonus. */
  monthly_bonus_minor: number | null;
}

export interface CollaborationsTable {
  id: string;
  name: string;
  lead_id: string;
  created_at: string;
  updated_at: string;
}

export interface CollaborationMembersTable {
  collaboration_id: string;
  creator_id: string;
  /** Share in basis points (5000 = 50.00%); the members of a collaboration sum to 10000. */
  share_bp: number;
  /** The share as given, normalised to two decimals: "50.00". */
  share_percent: string;
}

export type OwnerKind = 'creator' | 'collaboration';

export interface PacksTable {
  slug: string;
  version: string;
  name: string;
  category: string;
  subcategory: string | null;
  /** JSON array of strings. */
  tags: string;
  /** USD list price in cents. */
  price_minor: number;
  currency: string;
  /** JSON object: country → { currency, amountMinor }. */
  markets: string;
  owner_id: string;
  owner_kind: OwnerKind;
  appstore_product_id: string | null;
  googleplay_product_id: string | null;
  web_product_id: string | null;
  /** YYYY-MM-DD or null (no bound). */
  available_from: string | null;
  available_until: string | null;
  archive_sha256: string;
  archive_path: string;
  archive_bytes: number;
  /** The archive's pack.json (source fields and variants), JSON text. */
  manifest: string;
  published_at: string;
  /**
   * The minisign public key (base64 key line) that verified the archive's detached signature
   * at registration; null for packs registered before migration 0500.
   */
  signing_key: string | null;
}

export type BundleKind = 'custom' | 'seasonal';

export interface BundlesTable {
  slug: string;
  name: string;
  kind: BundleKind;
  /** The season tag of a seasonal collection, else null. */
  season: string | null;
  /** Bundle price in USD cents. */
  price_minor: number;
  currency: string;
  /** Sum of the packs' USD prices when the bundle was made. */
  individual_total_minor: number;
  /** The discount given, as an exact decimal fraction ("0.25"), or null for a fixed price. */
  discount: string | null;
  charm: number;
  /** Savings against the individual total, percent with one decimal ("30.5"). */
  savings_percent: string;
  available_from: string | null;
  available_until: string | null;
  created_at: string;
}

export interface BundleItemsTable {
  bundle_slug: string;
  pack_slug: string;
  /** The pack's USD price when the bundle was made (the weights for revenue splits). */
  price_minor: number;
  position: number;
}

export type SaleKind = 'sale' | 'refund';
/** What a sales row pays for: a pack, a bundle of packs, or a subscription plan (§14). */
export type ProductKind = 'pack' | 'bundle' | 'plan';
export type Store = 'appstore' | 'googleplay' | 'web';

export interface SalesTable {
  store: Store;
  transaction_id: string;
  kind: SaleKind;
  /** UTC, ISO 8601 with milliseconds and Z. */
  occurred_at: string;
  /** YYYY-MM of occurred_at in UTC. */
  month: string;
  /** The product as the store reported it (slug or store product id). */
  product: string;
  product_kind: ProductKind;
  pack_slug: string | null;
  bundle_slug: string | null;
  /** The subscription plan of a 'plan' row (§14), else null. */
  plan_id: string | null;
  country: string;
  currency: string;
  /** Null when the store does not report it (App Store lines: proceeds only; net_minor holds the net). */
  gross_minor: number | null;
  store_fee_minor: number | null;
  tax_minor: number | null;
  /** The net as the store reported it when gross, fee and tax are unknown; else null (net = gross − fee − tax). */
  net_minor: number | null;
  consent_ref: string | null;
  /** HMAC-SHA256 (hex) of family_ref with the ledger's secret; never the raw value. */
  family_hmac: string | null;
  /** For a refund: the transaction_id of the sale (same store). */
  refund_of: string | null;
  batch_id: string;
}

/** A subscription plan (§14): every premium pack for 1 or 12 months at a USD price. */
export interface PlansTable {
  id: string;
  name: string;
  /** 1 (monthly) or 12 (annual). */
  months: number;
  /** USD list price in cents. */
  price_minor: number;
  currency: string;
  appstore_product_id: string | null;
  googleplay_product_id: string | null;
  web_product_id: string | null;
  created_at: string;
}

/** Active days of one family on one pack in one month (§14 usage). */
export interface UsageTable {
  /** YYYY-MM. */
  month: string;
  /** HMAC-SHA256 (hex) of family_ref, the same as sales.family_hmac; never the raw value. */
  family_hmac: string;
  pack_slug: string;
  /** 1 to the number of days in the month. */
  active_days: number;
  batch_id: string;
}

export interface ReviewsTable {
  review_id: string;
  pack_slug: string;
  rating: number;
  reviewed_at: string;
  month: string;
  batch_id: string;
}

export interface FxRatesTable {
  currency: string;
  /** YYYY-MM. */
  month: string;
  /** USD per one major unit, exact decimal string ("1.2710", "0.0064"). */
  usd_per_unit: string;
  batch_id: string;
}

export type ImportKind = 'sales' | 'reviews' | 'rates' | 'usage' | 'purchases' | 'googleplay' | 'appstore';

export interface ImportBatchesTable {
  id: string;
  kind: ImportKind;
  file_name: string;
  file_sha256: string;
  rows: number;
  imported: number;
  skipped: number;
  quarantined: number;
  started_at: string;
  finished_at: string | null;
}

export interface QuarantineTable {
  batch_id: string;
  /** 1-based data row number in the file (the header is row 0 for CSV). */
  row_number: number;
  kind: ImportKind;
  /** The first problem's code, for quick filtering. */
  code: string;
  /** JSON array of { column, code, message }. */
  reasons: string;
  /** The raw row as JSON (family_ref removed). */
  raw: string;
  created_at: string;
  /** The row's identity (HMAC of kind and content, or the importer's key): one quarantine record per row (0200). */
  row_key: string | null;
  /** Store reports (§15): held money, shown by reports and released by a later import. Null otherwise. */
  store: Store | null;
  report_key: string | null;
  hold_key: string | null;
  /** The report line (row_number may be a unit's ordinal when one line holds several units). */
  line: number | null;
  month: string | null;
  currency: string | null;
  /** Signed minor units of `currency` (negative for a refund). */
  amount_minor: number | null;
  /** The batch whose import matched the row to a purchase record and wrote it to the ledger. */
  released_batch: string | null;
}

export interface ClosedPeriodsTable {
  /** YYYY-MM. */
  month: string;
  closed_at: string;
  /** JSON of the period's totals, written by payouts close. */
  totals: string | null;
}

export interface StatementsTable {
  month: string;
  creator_id: string;
  tier: string | null;
  earnings_minor: number;
  bonus_minor: number;
  carried_in_minor: number;
  payout_minor: number;
  carried_out_minor: number;
  /** The full statement (lines per pack, splits), JSON text. */
  detail: string;
  created_at: string;
}

/** The app server's purchase log (§15): what store sales are matched to for consent. */
export interface PurchasesTable {
  store: Store;
  transaction_id: string;
  kind: SaleKind;
  /** UTC, ISO 8601 with milliseconds and Z. */
  occurred_at: string;
  product: string;
  country: string;
  consent_ref: string | null;
  family_hmac: string;
  refund_of: string | null;
  batch_id: string;
}

/** One imported store file (§15). */
export interface StoreReportsTable {
  batch_id: string;
  store: Store;
  /** Which report the file is (store, period, currency, region): a corrected file has the same key. */
  report_key: string;
  file_sha256: string;
  file_name: string;
  /** JSON: the report's totals next to the ledger's. */
  summary: string;
  created_at: string;
}

export interface LedgerDB {
  meta: MetaTable;
  creators: CreatorsTable;
  creator_tiers: CreatorTiersTable;
  collaborations: CollaborationsTable;
  collaboration_members: CollaborationMembersTable;
  packs: PacksTable;
  bundles: BundlesTable;
  bundle_items: BundleItemsTable;
  sales: SalesTable;
  reviews: ReviewsTable;
  plans: PlansTable;
  usage: UsageTable;
  fx_rates: FxRatesTable;
  import_batches: ImportBatchesTable;
  quarantine: QuarantineTable;
  closed_periods: ClosedPeriodsTable;
  statements: StatementsTable;
  purchases: PurchasesTable;
  store_reports: StoreReportsTable;
}

export type PackRow = Selectable<PacksTable>;
export type BundleItemRow = Selectable<BundleItemsTable>;
