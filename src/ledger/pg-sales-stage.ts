/**
 * The staging table of a PostgreSQL sales import (pg-sales.ts): its name, the state of each
 * staged row, and the cells kept for a row that may still be quarantined.
 */
export const STAGE = 'packops_stage_sales';
/** The staged refunds, copied out once the later copies are marked. */
export const REFUNDS = 'packops_stage_refunds';
/** Staging states: 0 accepted so far, 1 a problem unless it turns out a duplicate or already stored, 2 bad, 3 a later copy. */
export const GOOD = 0;
export const DEFERRED = 1;
export const BAD = 2;
export const DUPLICATE = 3;

/** Cells kept for a row that may still be quarantined: their positions survive (a JSON Lines cell may be absent). */
export function packCells(cells: readonly unknown[]): string {
  return JSON.stringify({ n: cells.length, c: Object.assign({}, cells) });
}
export function unpackCells(text: string | null): unknown[] {
  if (text === null) return [];
  const { n, c } = JSON.parse(text) as { n: number; c: Record<string, unknown> };
  const cells = new Array<unknown>(n);
  for (const [k, v] of Object.entries(c)) cells[Number(k)] = v;
  return cells;
}
