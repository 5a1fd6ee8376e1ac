/** `ledger import reviews`: review_id,pack,rating,reviewed_at (rating 1–5). */
import { integerInRange, requiredText, timestamp } from '../fields.js';
import { identifier } from '../ids.js';
import { collect, type Importer } from './pipeline.js';

interface ReviewParsed {
  reviewId: string;
  pack: string;
  rating: number;
  at: { iso: string; month: string };
}

export function reviewsImporter(): Importer<ReviewParsed> {
  let packs = new Set<string>();
  const seen = new Map<string, number>();
  return {
    kind: 'reviews',
    columns: { required: ['review_id', 'pack', 'rating', 'reviewed_at'], optional: [] },
    table: 'reviews',
    insertColumns: ['review_id', 'pack_slug', 'rating', 'reviewed_at', 'month', 'batch_id'],
    async init({ trx }) {
      packs = new Set((await trx.selectFrom('packs').select('slug').execute()).map((r) => r.slug));
    },
    parse(rec) {
      const [vId, vPack, vRating, vAt] = rec.cells;
      // A review id is an identifier: no controls (NUL above all), format characters or hidden whitespace.
      const id = identifier('review_id', vId);
      const pack = requiredText('pack', vPack);
      const rating = integerInRange('rating', vRating, 1, 5);
      const at = timestamp('reviewed_at', vAt);
      const problems = collect(id, pack, rating, at);
      if (!id.ok) return { problems };
      if (problems.length) return { parsed: { reviewId: id.value } as ReviewParsed, problems };
      return {
        parsed: {
          reviewId: id.value,
          pack: (pack as { value: string }).value,
          rating: (rating as { value: number }).value,
          at: (at as { value: ReviewParsed['at'] }).value,
        },
        problems,
      };
    },
    async check({ trx, closed }, items) {
      const ids = items.map((i) => i.parsed?.reviewId).filter((x): x is string => x !== undefined && !seen.has(x));
      const existing = new Set(
        ids.length ? (await trx.selectFrom('reviews').select('review_id').where('review_id', 'in', ids).execute()).map((r) => r.review_id) : [],
      );
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const first = seen.get(p.reviewId);
        if (first !== undefined) {
          it.problems.push({ column: 'review_id', code: 'ROW_DUPLICATE_IN_FILE', message: `Review ${p.reviewId} already appears in row ${first}.` });
          continue;
        }
        seen.set(p.reviewId, it.rec.row);
        if (it.problems.length) continue;
        if (existing.has(p.reviewId)) {
          it.action = 'skip';
          continue;
        }
        if (closed.has(p.at.month)) it.problems.push(closed.problem('reviewed_at', p.at.month));
        if (!packs.has(p.pack)) {
          it.problems.push({ column: 'pack', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack "${p.pack}" is registered in the ledger.` });
        }
        if (!it.problems.length) it.action = 'insert';
      }
    },
    period: (p) => (p.at ? { column: 'reviewed_at', month: p.at.month } : undefined),
    values(p, batch) {
      return [p.reviewId, p.pack, p.rating, p.at.iso, p.at.month, batch];
    },
  };
}
