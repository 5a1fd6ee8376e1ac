/**
 * A Google Play import's purchase-log (consent) lookups, run ahead of its checks on a second
 * thread (consent-worker.ts), so that the main thread, which parses, checks and writes on
 * one core, no longer waits for them while the machine's other core sits idle.
 *
 * How: for a SQLite ledger file (not `:memory:`, which no other connection can see; not
 * PostgreSQL, which keeps the main thread's queries), `start` launches the worker once the
 * import has read and grouped a file (its startup, ~0.1 s on the other core, overlaps the
 * sort of the sales by id). The sales are then checked a chunk at a time in id order
 * (OrderGroups.chunks); `request` sends the purchase ids of a chunk (`consentIds`: each
 * sale's order id and, for a renewal `..N`, its base id: exactly what the check would ask)
 * LOOKAHEAD chunks before the check needs them, so the worker answers chunk k+1 while the
 * main thread writes chunk k. The check uses an answer only when it was asked for exactly
 * its ids; otherwise (the worker failed to start, crashed, answered too late, or was never
 * asked) it queries as it always did. The answers are the same either way.
 *
 * Why they are the same: the import runs in ONE write transaction, opened with BEGIN
 * IMMEDIATE (driver.ts) before the importer reads anything, so SQLite's write lock is held
 * from before the worker exists until the commit; no other process can commit purchase
 * records meanwhile, and every snapshot the worker's connection opens (one per statement,
 * all after the import's BEGIN) shows the purchase log as the import's transaction sees
 * it. A Google Play import never writes the purchases table itself (checked in the code:
 * pipeline.ts, googleplay.ts, googleplay-groups.ts, store-report.ts, store-corrections.ts,
 * writer.ts): it writes `sales` (the pipeline's writer; identifyReport deletes a replaced
 * report's rows), `import_batches`, `store_reports` (identifyReport, saveTotals),
 * `quarantine` (the pipeline's held rows, identifyReport, releaseHolds) and its temporary
 * staging table (googleplay-groups.ts), nothing else; no trigger or cascade reaches
 * `purchases`. So its own uncommitted writes, which the worker cannot see, never touch
 * what the worker reads.
 *
 * Why not overlapped with the parse, as first planned (measured at 1M rows, 414,846
 * purchase records): the import's memory peaks at the end of the parse (the grouped file
 * held in full, ~250-280 MiB RSS), and answers fetched during the parse would wait there
 * until their check: a Map of that many records (id, consent ref, 64-hex family HMAC) is
 * 93 MB of heap. Ids sent in file order (Google's are random) would also walk the purchase
 * index in no order, where a chunk of sales in id order walks it in order (migration 0320).
 * The write phase leaves the other core just as idle, and the thread itself (~16 MB RSS,
 * its heap capped) is only started after the peak.
 *
 * Never a hang, never a wrong answer: the worker is unref'd (it never keeps the process
 * alive), terminated by `close` (the importer's `finally`, also when the import is refused
 * half-way), opened read-only with no busy wait; any error, exit or late answer only
 * switches the checks back to their own queries.
 */
import { Worker } from 'node:worker_threads';
import type { ConsentAnswer, ConsentRequest, ConsentWorkerData } from './consent-worker.js';

/** A purchase record as the consent check uses it. */
export interface Consent {
  consent_ref: string | null;
  family_hmac: string;
}

export interface PrefetchOptions {
  /** The worker's module (tests point it elsewhere); default: consent-worker.js next to this module. */
  worker?: URL;
  /** How long a check waits for an answer (default ANSWER_WAIT_MS). */
  answerWaitMs?: number;
  /** Called once when the prefetch closes, with what it answered (tests). */
  onClose?: (stats: PrefetchStats) => void;
}

export interface PrefetchStats {
  /** Chunks whose lookups the worker answered and the check used. */
  answered: number;
  /** Chunks the check looked up itself (no answer, or not for its ids). */
  queried: number;
  /** Why the worker stopped answering, if it did. */
  failure?: string;
}

/** Chunks requested ahead of the one being checked. */
export const LOOKAHEAD = 2;
/** The worker's SQLite page cache: enough for the index's inner pages; the OS caches the rest. */
const WORKER_CACHE_KIB = 2048;
/**
 * The worker's V8 heap, capped (MB): it holds one chunk's ids and answers at a time. Past
 * the cap the thread ends (ERR_WORKER_OUT_OF_MEMORY) and the checks query themselves.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };
/**
 * How long a check waits for an answer the worker has not given yet before it queries
 * itself and stops using the worker (it answers a chunk in milliseconds: only a stuck
 * thread or a starved machine takes this long).
 */
const ANSWER_WAIT_MS = 10_000;

interface Pending {
  ids: readonly string[];
  answer: Promise<Map<string, Consent> | undefined>;
}

export class ConsentPrefetch {
  private readonly waiting = new Map<number, (answer: Map<string, Consent> | undefined) => void>();
  /** The chunk each request was made for, by its first transaction. */
  private readonly requests = new WeakMap<object, Pending>();
  private seq = 0;
  private failure: string | undefined;
  private closed = false;
  private readonly stats: PrefetchStats = { answered: 0, queried: 0 };

  private constructor(
    private readonly worker: Worker,
    private readonly waitMs: number,
    private readonly onClose?: (stats: PrefetchStats) => void,
  ) {
    worker.unref();
    worker.on('message', (m: ConsentAnswer) => this.answered(m));
    worker.on('error', (err) => this.fail(`worker error: ${err instanceof Error ? err.message : String(err)}`));
    worker.on('messageerror', () => this.fail('worker message could not be read'));
    worker.on('exit', (code) => this.fail(`worker exited (${code})`));
  }

  /** A prefetch for `file`'s purchase log of `store`, or undefined when the thread cannot be started. */
  static start(file: string, store: string, options: PrefetchOptions = {}): ConsentPrefetch | undefined {
    try {
      const workerData: ConsentWorkerData = { file, store, cacheKiB: WORKER_CACHE_KIB };
      const worker = new Worker(options.worker ?? new URL('./consent-worker.js', import.meta.url), { workerData, resourceLimits: WORKER_LIMITS });
      return new ConsentPrefetch(worker, options.answerWaitMs ?? ANSWER_WAIT_MS, options.onClose);
    } catch {
      return undefined; // (no thread: every check queries, as before)
    }
  }

  /** Asks the worker for the records of `ids` (the chunk starting with `first`); answered asynchronously. */
  request(first: object, ids: string[]): void {
    if (this.failure !== undefined || this.closed) return;
    const seq = ++this.seq;
    const answer = new Promise<Map<string, Consent> | undefined>((resolve) => this.waiting.set(seq, resolve));
    this.requests.set(first, { ids, answer });
    this.worker.postMessage({ seq, ids } satisfies ConsentRequest);
  }

  /**
   * The records among `ids` for the chunk starting with `first`, if the worker was asked for
   * exactly these ids and answered; undefined: look them up yourself.
   */
  async take(first: object, ids: readonly string[]): Promise<Map<string, Consent> | undefined> {
    const pending = this.requests.get(first);
    this.requests.delete(first);
    const answer = pending && sameIds(pending.ids, ids) ? await this.within(pending.answer) : undefined;
    if (answer) this.stats.answered++;
    else this.stats.queried++;
    return answer;
  }

  /** Stops the worker (idempotent); pending checks query themselves. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleAll();
    this.worker.removeAllListeners('exit');
    await this.worker.terminate().catch(() => undefined);
    this.onClose?.({ ...this.stats, ...(this.failure !== undefined ? { failure: this.failure } : {}) });
  }

  private answered(m: ConsentAnswer): void {
    const resolve = this.waiting.get(m.seq);
    if (!resolve) return;
    this.waiting.delete(m.seq);
    const found = new Map<string, Consent>();
    const rows = m.rows;
    for (let i = 0; i + 2 < rows.length; i += 3) found.set(rows[i]!, { consent_ref: rows[i + 1]!, family_hmac: rows[i + 2]! });
    resolve(found);
  }

  private fail(why: string): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = why;
    this.settleAll();
    void this.worker.terminate().catch(() => undefined);
  }

  private settleAll(): void {
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }

  /** `answer`, unless it takes longer than the wait (then the worker is given up). */
  private async within(answer: Promise<Map<string, Consent> | undefined>): Promise<Map<string, Consent> | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.fail('no answer in time');
        resolve(undefined);
      }, this.waitMs);
      timer.unref();
    });
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
