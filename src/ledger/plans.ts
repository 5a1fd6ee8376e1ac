/**
 * Subscription plans (PRODUCT.md §14): `subscriptions create|list`. A plan unlocks every
 * premium pack for 1 or 12 months at a USD price; sales name it by its id or by one of its
 * store product ids. Creating the same plan again is a no-op; a different plan under an
 * existing id is PLAN_EXISTS (plans already sold keep their terms). A name another product
 * answers to is PRODUCT_ID_CONFLICT.
 */
import { conflictError, inputError } from '../shared/errors.js';
import type { Ledger } from './db.js';
import { describeClaim, productNameClaims } from './product-ids.js';
import type { PlansTable } from './schema.js';

export const PLAN_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Store product id rules, as pack.schema.json's storeProductIds. */
const STORE_ID_RULES = {
  appstore: { re: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, max: 100 },
  googleplay: { re: /^[a-z0-9][a-z0-9._]*$/, max: 139 },
  web: { re: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, max: 100 },
} as const;
export type PlanStore = keyof typeof STORE_ID_RULES;

export interface Plan {
  id: string;
  name: string;
  months: 1 | 12;
  priceMinor: number;
  currency: 'USD';
  storeProductIds: Partial<Record<PlanStore, string>>;
  createdAt: string;
}

export interface CreatePlanOptions {
  id: string;
  name: string;
  months: number;
  priceMinor: number;
  storeProductIds?: Partial<Record<PlanStore, string | undefined>>;
  now?: () => Date;
}

function invalid(message: string, hint?: string) {
  return inputError('PLAN_INVALID', message, hint ? { hint } : undefined);
}

function fromRow(r: PlansTable): Plan {
  const ids: Plan['storeProductIds'] = {};
  if (r.appstore_product_id) ids.appstore = r.appstore_product_id;
  if (r.googleplay_product_id) ids.googleplay = r.googleplay_product_id;
  if (r.web_product_id) ids.web = r.web_product_id;
  return { id: r.id, name: r.name, months: Number(r.months) === 12 ? 12 : 1, priceMinor: Number(r.price_minor), currency: 'USD', storeProductIds: ids, createdAt: r.created_at };
}

function validate(o: CreatePlanOptions): Omit<Plan, 'createdAt'> {
  if (!PLAN_ID.test(o.id) || o.id.length < 3 || o.id.length > 64) {
    throw invalid(`"${o.id}" is not a valid plan id (lowercase kebab-case, 3–64 characters, e.g. plus-monthly).`);
  }
  const name = o.name.trim();
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) throw invalid('--name is the plan\'s display name: 1–100 characters, no control characters.');
  if (o.months !== 1 && o.months !== 12) throw invalid(`--months is 1 (monthly) or 12 (annual), not ${o.months}.`);
  if (!Number.isSafeInteger(o.priceMinor) || o.priceMinor <= 0) throw invalid('--price is the plan\'s USD price in cents, a whole number above 0 (699 for $6.99).');
  const ids: Plan['storeProductIds'] = {};
  const given = new Map<string, PlanStore>();
  for (const store of Object.keys(STORE_ID_RULES) as PlanStore[]) {
    const id = o.storeProductIds?.[store];
    if (id === undefined) continue;
    const rule = STORE_ID_RULES[store];
    if (!rule.re.test(id) || id.length > rule.max) throw invalid(`--${store} "${id}" is not a valid ${store} product id.`);
    if (id === o.id) throw invalid(`--${store} "${id}" is the plan's own id; a store product id names the plan only once.`);
    const other = given.get(id);
    if (other) throw invalid(`--${other} and --${store} are both "${id}"; each store needs its own product id.`);
    given.set(id, store);
    ids[store] = id;
  }
  return { id: o.id, name, months: o.months, priceMinor: o.priceMinor, currency: 'USD', storeProductIds: ids };
}

function samePlan(a: Omit<Plan, 'createdAt'>, b: Plan): boolean {
  const stores = Object.keys(STORE_ID_RULES) as PlanStore[];
  return a.name === b.name && a.months === b.months && a.priceMinor === b.priceMinor && stores.every((s) => a.storeProductIds[s] === b.storeProductIds[s]);
}

/** `subscriptions create`: stores a plan (or finds the identical one). */
export async function createPlan(ledger: Ledger, o: CreatePlanOptions): Promise<{ status: 'created' | 'unchanged'; plan: Plan }> {
  const plan = validate(o);
  const createdAt = (o.now ?? (() => new Date()))().toISOString();
  return ledger.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('plans').selectAll().where('id', '=', plan.id).executeTakeFirst();
    if (existing) {
      const stored = fromRow(existing);
      if (samePlan(plan, stored)) return { status: 'unchanged', plan: stored };
      throw conflictError('PLAN_EXISTS', `A different plan "${plan.id}" already exists.`, {
        hint: 'A plan already sold keeps its terms; create the new one under another id.',
        details: { id: plan.id, stored },
      });
    }
    for (const name of [plan.id, ...Object.values(plan.storeProductIds)]) {
      const claims = await productNameClaims(trx, name);
      if (claims.length > 0) {
        const what = name === plan.id ? `The plan id "${name}"` : `The store product id "${name}"`;
        throw conflictError('PRODUCT_ID_CONFLICT', `${what} is already ${describeClaim(claims[0]!)}; a product name names one pack, bundle or plan, never two.`, {
          details: { id: plan.id, name, claimedBy: claims },
        });
      }
    }
    await trx
      .insertInto('plans')
      .values({
        id: plan.id,
        name: plan.name,
        months: plan.months,
        price_minor: plan.priceMinor,
        currency: 'USD',
        appstore_product_id: plan.storeProductIds.appstore ?? null,
        googleplay_product_id: plan.storeProductIds.googleplay ?? null,
        web_product_id: plan.storeProductIds.web ?? null,
        created_at: createdAt,
      })
      .execute();
    return { status: 'created', plan: { ...plan, createdAt } };
  });
}

/** `subscriptions list`: every plan, by id. */
export async function listPlans(ledger: Ledger): Promise<Plan[]> {
  const rows = await ledger.db.selectFrom('plans').selectAll().orderBy('id').execute();
  return rows.map(fromRow);
}
