/**
 * `creators import`: creators and collaborations from a JSON file checked against
 * `schemas/creators.schema.json` (loaded from the package) and the rules a schema cannot
 * say: unique ids, members who exist, a lead who is a member, shares summing to exactly
 * 100 (exact decimal arithmetic, in basis points). One transaction; re-import updates.
 */
import { readFile } from 'node:fs/promises';
import { readInputText } from '../shared/input.js';

/** A creators file larger than this is refused unread. */
export const MAX_CREATORS_BYTES = 64 * 1024 * 1024;
import { createRequire } from 'node:module';
import { inputError } from '../shared/errors.js';
import { basisPointsToPercent, percentToBasisPoints } from '../shared/money.js';
import type { Ledger } from './db.js';
import { unstorableText } from './fields.js';
import { identifier } from './ids.js';

export const CREATORS_SCHEMA_URL = new URL('../../schemas/creators.schema.json', import.meta.url);

export interface CreatorsFile {
  creators: Array<{ id: string; name: string; payoutRef?: string }>;
  collaborations?: Array<{ id: string; name: string; lead: string; members: Array<{ creator: string; sharePercent: string }> }>;
}

export interface CreatorsProblem {
  code: string;
  pointer: string;
  message: string;
}

export interface CreatorsImportResult {
  ok: true;
  file: string;
  creators: { added: number; updated: number; unchanged: number };
  collaborations: { added: number; updated: number; unchanged: number };
}

type Validator = ((v: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }> | null;
};
let validator: Validator | undefined;

async function creatorsValidator(): Promise<Validator> {
  if (validator) return validator;
  const require = createRequire(import.meta.url);
  const Ajv2020 = (require('ajv/dist/2020') as { default: new (o: object) => { compile(s: unknown): Validator } }).default;
  const schema = JSON.parse(await readFile(CREATORS_SCHEMA_URL, 'utf8')) as unknown;
  validator = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  return validator;
}

/** "33.34" → 3334 basis points; the schema has already limited shares to two decimals. */
function shareBasisPoints(text: string): number {
  const bp = percentToBasisPoints(text);
  if (bp === undefined) throw new RangeError(`not a percentage with at most two decimals: ${text}`);
  return bp;
}

/**
 * A name the ledger can store (no NUL: PostgreSQL cannot hold it, so SQLite refuses it too)
 * and a payout reference that is an identifier (no controls, format characters or hidden
 * whitespace, the one check of ids.ts): TEXT_INVALID, at the field's pointer.
 */
function textProblems(problems: CreatorsProblem[], at: string, fields: { name: string; payoutRef?: string }): void {
  const nul = unstorableText('name', fields.name);
  if (nul !== undefined) problems.push({ code: 'TEXT_INVALID', pointer: `${at}/name`, message: nul });
  if (fields.payoutRef !== undefined) {
    const ref = identifier('payoutRef', fields.payoutRef);
    if (!ref.ok) problems.push({ code: 'TEXT_INVALID', pointer: `${at}/payoutRef`, message: ref.problem.message });
  }
}

/** Schema and rule problems of a parsed creators file (empty when it is good). */
export async function checkCreatorsFile(value: unknown, known: ReadonlySet<string> = new Set()): Promise<CreatorsProblem[]> {
  const validate = await creatorsValidator();
  if (!validate(value)) {
    return (validate.errors ?? []).map((e) => ({
      code: 'SCHEMA',
      pointer: e.instancePath || '/',
      message:
        e.keyword === 'additionalProperties'
          ? `unknown field "${String(e.params.additionalProperty)}"`
          : `${e.instancePath || 'the file'} ${e.message ?? 'is invalid'}`,
    }));
  }
  const file = value as CreatorsFile;
  const problems: CreatorsProblem[] = [];
  const creatorIds = new Set<string>();
  file.creators.forEach((c, i) => {
    if (creatorIds.has(c.id)) problems.push({ code: 'ID_DUPLICATE', pointer: `/creators/${i}/id`, message: `creator "${c.id}" is listed twice` });
    creatorIds.add(c.id);
    textProblems(problems, `/creators/${i}`, c);
  });
  (file.collaborations ?? []).forEach((col, i) => textProblems(problems, `/collaborations/${i}`, { name: col.name }));
  const existing = new Set([...known, ...creatorIds]);
  const collabIds = new Set<string>();
  (file.collaborations ?? []).forEach((col, i) => {
    const at = `/collaborations/${i}`;
    if (collabIds.has(col.id)) problems.push({ code: 'ID_DUPLICATE', pointer: `${at}/id`, message: `collaboration "${col.id}" is listed twice` });
    if (creatorIds.has(col.id)) {
      problems.push({ code: 'ID_DUPLICATE', pointer: `${at}/id`, message: `"${col.id}" is both a creator and a collaboration; a pack's creator field must name one owner` });
    }
    collabIds.add(col.id);
    const members = new Set<string>();
    let total = 0;
    col.members.forEach((m, j) => {
      if (members.has(m.creator)) problems.push({ code: 'ID_DUPLICATE', pointer: `${at}/members/${j}/creator`, message: `"${m.creator}" is a member twice` });
      members.add(m.creator);
      if (!existing.has(m.creator)) {
        problems.push({ code: 'MEMBER_UNKNOWN', pointer: `${at}/members/${j}/creator`, message: `member "${m.creator}" is not a creator (in this file or the ledger)` });
      }
      const bp = shareBasisPoints(m.sharePercent);
      if (bp <= 0) problems.push({ code: 'SHARES', pointer: `${at}/members/${j}/sharePercent`, message: `the share of "${m.creator}" must be more than 0` });
      total += bp;
    });
    if (total !== 10_000) {
      problems.push({ code: 'SHARES', pointer: `${at}/members`, message: `the shares of "${col.id}" sum to ${basisPointsToPercent(total)}, not exactly 100.00` });
    }
    if (!members.has(col.lead)) {
      problems.push({ code: 'LEAD_NOT_MEMBER', pointer: `${at}/lead`, message: `the lead "${col.lead}" is not one of the members of "${col.id}"` });
    }
  });
  return problems;
}

export async function importCreators(ledger: Ledger, path: string, options: { now?: () => Date } = {}): Promise<CreatorsImportResult> {
  // A FIFO, device or folder is refused at once (exit 3), never read or waited on.
  const text = await readInputText(path, { what: 'creators file', maxBytes: MAX_CREATORS_BYTES, codes: { unreadable: 'CREATORS_INVALID' } });
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw inputError('CREATORS_INVALID', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  const now = (options.now ?? (() => new Date()))().toISOString();
  return ledger.db.transaction().execute(async (trx) => {
    const known = new Set((await trx.selectFrom('creators').select('id').execute()).map((r) => r.id));
    const problems = await checkCreatorsFile(value, known);
    const knownCollabs = new Set((await trx.selectFrom('collaborations').select('id').execute()).map((r) => r.id));
    const file = value as CreatorsFile;
    if (problems.length === 0) {
      // A collaboration id must not clash with a creator already in the ledger either.
      (file.collaborations ?? []).forEach((c, i) => {
        if (known.has(c.id)) problems.push({ code: 'ID_DUPLICATE', pointer: `/collaborations/${i}/id`, message: `"${c.id}" is already a creator in the ledger` });
      });
      file.creators.forEach((c, i) => {
        if (knownCollabs.has(c.id)) problems.push({ code: 'ID_DUPLICATE', pointer: `/creators/${i}/id`, message: `"${c.id}" is already a collaboration in the ledger` });
      });
    }
    if (problems.length > 0) {
      throw inputError('CREATORS_INVALID', `${path}: ${problems.length} problem(s); nothing was imported. ${problems.map((p) => `${p.pointer}: ${p.message}`).join('; ')}`, {
        details: { file: path, problems },
      });
    }
    const result: CreatorsImportResult = {
      ok: true,
      file: path,
      creators: { added: 0, updated: 0, unchanged: 0 },
      collaborations: { added: 0, updated: 0, unchanged: 0 },
    };
    const current = new Map(
      (await trx.selectFrom('creators').select(['id', 'name', 'payout_ref']).execute()).map((r) => [r.id, r]),
    );
    for (const c of file.creators) {
      const before = current.get(c.id);
      const payoutRef = c.payoutRef ?? null;
      if (!before) {
        await trx.insertInto('creators').values({ id: c.id, name: c.name, payout_ref: payoutRef, created_at: now, updated_at: now }).execute();
        result.creators.added++;
      } else if (before.name !== c.name || before.payout_ref !== payoutRef) {
        await trx.updateTable('creators').set({ name: c.name, payout_ref: payoutRef, updated_at: now }).where('id', '=', c.id).execute();
        result.creators.updated++;
      } else {
        result.creators.unchanged++;
      }
    }
    for (const col of file.collaborations ?? []) {
      const before = await trx.selectFrom('collaborations').select(['name', 'lead_id']).where('id', '=', col.id).executeTakeFirst();
      const members = col.members
        .map((m) => ({ collaboration_id: col.id, creator_id: m.creator, share_bp: shareBasisPoints(m.sharePercent), share_percent: basisPointsToPercent(shareBasisPoints(m.sharePercent)) }))
        .sort((a, b) => (a.creator_id < b.creator_id ? -1 : 1));
      if (!before) {
        await trx.insertInto('collaborations').values({ id: col.id, name: col.name, lead_id: col.lead, created_at: now, updated_at: now }).execute();
        await trx.insertInto('collaboration_members').values(members).execute();
        result.collaborations.added++;
        continue;
      }
      const oldMembers = await trx
        .selectFrom('collaboration_members')
        .select(['creator_id', 'share_bp'])
        .where('collaboration_id', '=', col.id)
        .orderBy('creator_id')
        .execute();
      const sameMembers =
        oldMembers.length === members.length && oldMembers.every((m, i) => m.creator_id === members[i]!.creator_id && m.share_bp === members[i]!.share_bp);
      if (before.name === col.name && before.lead_id === col.lead && sameMembers) {
        result.collaborations.unchanged++;
        continue;
      }
      await trx.updateTable('collaborations').set({ name: col.name, lead_id: col.lead, updated_at: now }).where('id', '=', col.id).execute();
      await trx.deleteFrom('collaboration_members').where('collaboration_id', '=', col.id).execute();
      await trx.insertInto('collaboration_members').values(members).execute();
      result.collaborations.updated++;
    }
    return result;
  });
}
