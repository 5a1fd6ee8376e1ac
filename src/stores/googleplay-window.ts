/**
 * An earnings report's rows grouped into transactions (src/stores/googleplay.ts: one sale
 * per order, one refund per order and refund time), held compactly: one slot per
 * transaction in typed arrays (struct of arrays) rather than one object each, so a month's
 * report fits in memory. Per transaction about 80 bytes plus its id's characters, all
 * outside V8's heap (which grows to ~3× its live set, and whose collector never scans typed
 * arrays):
 *
 *   - money and time (ms, gross, fee, tax, net) in Float64Arrays: the same doubles the
 *     object form held, so the sums are exactly what they were; the first line and the row
 *     count in Uint32Arrays (a report is at most 4 GiB, so fewer than 2^31 lines);
 *   - SKU, country and currency as numbers into a table of the distinct values;
 *   - kind, "has a charge row" and "wide id" as bits;
 *   - the ids in one byte pool, found through an open-addressing hash table of slot numbers
 *     (FNV-1a over the UTF-16 code units), instead of a Map of strings: one byte per
 *     character when every code unit is below 256 (an order id is ASCII), else two (its
 *     UTF-16 code units, so any id comes back exactly);
 *   - a row that disagrees with its transaction's first row, rare, in a Map by slot.
 *
 * Slots are numbered in the order of their transactions' first lines. Pure: no database.
 */
import { mismatchOf, refundTxid, type GoogleRow, type GoogleTx, type Mismatch } from './googleplay.js';

const REFUND = 1;
const CHARGE = 2;
/** The id is stored as UTF-16 code units (two bytes each), not one byte per character. */
const WIDE = 4;
/** Growth of the arrays: by half (doubling would leave up to half of a large window unused). */
const grow = (n: number, need: number, least: number) => Math.max(Math.ceil(n * 1.5), need, least);
const REFUND_MARK = '/refund/';

/** FNV-1a over a string's UTF-16 code units, never 0 (0 marks an empty table cell). */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

function grown<T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

export class TxWindow {
  /** Transactions held. */
  size = 0;
  private capacity = 0;
  private ms = new Float64Array(0);
  private gross = new Float64Array(0);
  private fee = new Float64Array(0);
  private tax = new Float64Array(0);
  private net = new Float64Array(0);
  private firstLine = new Uint32Array(0);
  private rows = new Uint32Array(0);
  private flags = new Uint8Array(0);
  private sku = new Uint32Array(0);
  private country = new Uint32Array(0);
  private currency = new Uint32Array(0);
  private hash = new Int32Array(0);
  /** Where each id starts in `pool`; an id ends where the next slot's starts. */
  private idStart = new Uint32Array(1);
  private pool = Buffer.alloc(0);
  /** Bytes of the pool in use. */
  private used = 0;
  /** Open addressing: slot + 1 per cell, 0 empty; at most half full. */
  private table = new Int32Array(0);
  /** The distinct SKU, country and currency cells, numbered. */
  private values: string[] = [];
  private valueIds = new Map<string, number>();
  private mismatches = new Map<number, Mismatch>();

  /**
   * `limit` transactions or `byteLimit` bytes of ids, whichever comes first, make it full.
   * With `reserve`, the arrays are allocated for `limit` transactions at once rather than
   * grown by half: zero-filled memory the system commits page by page as it is written, so
   * a small report costs no more, and a large one never holds an outgrown copy of every
   * array (garbage until V8's next full collection) next to the new one.
   */
  constructor(
    readonly limit: number,
    readonly byteLimit = limit * 32,
    private readonly reserve = false,
  ) {}

  /** Whether the window holds as much as it may (the caller then empties it). */
  get full(): boolean {
    return this.size >= this.limit || this.used >= this.byteLimit;
  }

  /** Forgets every transaction (the memory stays allocated for the next ones). */
  clear(): void {
    this.size = 0;
    this.used = 0;
    this.table.fill(0);
    this.values = [];
    this.valueIds = new Map();
    this.mismatches = new Map();
  }

  /** Adds a row to its transaction, creating it; checks the rows of one transaction agree. */
  add(row: GoogleRow): void {
    const t = row.type;
    const refund = t === 'chargeRefund' || t === 'feeRefund' || t === 'taxRefund';
    const txid = refund ? refundTxid(row.order, row.ms) : row.order;
    const h = hashOf(txid);
    let slot = this.find(txid, h);
    if (slot < 0) slot = this.create(txid, h, refund, row);
    this.rows[slot]! += 1;
    this.net[slot]! += row.amount;
    if (!this.mismatches.has(slot)) {
      const v = this.values;
      const m = mismatchOf(v[this.currency[slot]!]!, v[this.sku[slot]!]!, v[this.country[slot]!]!, row.line, row);
      if (m) this.mismatches.set(slot, m);
    }
    switch (t) {
      case 'charge':
        if ((this.flags[slot]! & CHARGE) === 0 || row.ms < this.ms[slot]!) this.ms[slot] = row.ms;
        this.flags[slot]! |= CHARGE;
        this.gross[slot]! += row.amount;
        break;
      case 'fee':
        this.fee[slot]! -= row.amount;
        break;
      case 'tax':
        this.tax[slot]! -= row.amount;
        break;
      case 'chargeRefund':
        this.flags[slot]! |= CHARGE;
        this.gross[slot]! -= row.amount;
        break;
      case 'feeRefund':
        this.fee[slot]! += row.amount;
        break;
      case 'taxRefund':
        this.tax[slot]! += row.amount;
        break;
    }
  }

  /** The slot of a transaction id, or -1. */
  private find(txid: string, h: number): number {
    const table = this.table;
    if (table.length === 0) return -1;
    const mask = table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const cell = table[i]!;
      if (cell === 0) return -1;
      const slot = cell - 1;
      if (this.hash[slot] === h && this.idIs(slot, txid)) return slot;
    }
  }

  private idIs(slot: number, txid: string): boolean {
    const start = this.idStart[slot]!;
    const bytes = this.idStart[slot + 1]! - start;
    const pool = this.pool;
    if ((this.flags[slot]! & WIDE) === 0) {
      if (bytes !== txid.length) return false;
      for (let i = 0; i < bytes; i++) if (pool[start + i] !== txid.charCodeAt(i)) return false;
      return true;
    }
    if (bytes !== 2 * txid.length) return false;
    for (let i = 0; i < txid.length; i++) if (pool[start + 2 * i]! + 256 * pool[start + 2 * i + 1]! !== txid.charCodeAt(i)) return false;
    return true;
  }

  /** Stores an id at the end of the pool; true when it needed two bytes per code unit. */
  private store(txid: string): boolean {
    let wide = false;
    for (let i = 0; i < txid.length && !wide; i++) wide = txid.charCodeAt(i) > 255;
    const bytes = wide ? 2 * txid.length : txid.length;
    if (this.used + bytes > this.pool.length) {
      const pool = Buffer.alloc(grow(this.pool.length, this.used + bytes, this.reserve ? this.byteLimit + 1024 : 1 << 16));
      this.pool.copy(pool, 0, 0, this.used);
      this.pool = pool;
    }
    const pool = this.pool;
    const at = this.used;
    if (!wide) for (let i = 0; i < txid.length; i++) pool[at + i] = txid.charCodeAt(i);
    else {
      for (let i = 0; i < txid.length; i++) {
        const c = txid.charCodeAt(i);
        pool[at + 2 * i] = c & 255;
        pool[at + 2 * i + 1] = c >>> 8;
      }
    }
    this.used += bytes;
    return wide;
  }

  private create(txid: string, h: number, refund: boolean, row: GoogleRow): number {
    const slot = this.size;
    if (slot === this.capacity) this.growSlots();
    const wide = this.store(txid);
    this.idStart[slot + 1] = this.used;
    this.hash[slot] = h;
    this.size++;
    if (this.size * 2 > this.table.length) this.rehash();
    else this.place(slot, h);
    this.ms[slot] = row.ms;
    this.gross[slot] = 0;
    this.fee[slot] = 0;
    this.tax[slot] = 0;
    this.net[slot] = 0;
    this.firstLine[slot] = row.line;
    this.rows[slot] = 0;
    this.flags[slot] = (refund ? REFUND : 0) | (wide ? WIDE : 0);
    this.sku[slot] = this.valueId(row.sku);
    this.country[slot] = this.valueId(row.country);
    this.currency[slot] = this.valueId(row.currency);
    return slot;
  }

  private place(slot: number, h: number): void {
    const mask = this.table.length - 1;
    let i = h & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
  }

  private rehash(): void {
    let n = Math.max(this.table.length, 1 << 12);
    if (this.reserve) while (this.limit * 2 > n) n *= 2;
    while (this.size * 2 > n) n *= 2;
    this.table = new Int32Array(n);
    for (let s = 0; s < this.size; s++) this.place(s, this.hash[s]!);
  }

  private growSlots(): void {
    // Up to the limit, no further while the caller empties the window when full (a caller that does not still gets room).
    const n = this.capacity < this.limit ? Math.min(grow(this.capacity, 0, this.reserve ? this.limit : 4096), this.limit) : grow(this.capacity, 0, 4096);
    this.ms = grown(this.ms, n);
    this.gross = grown(this.gross, n);
    this.fee = grown(this.fee, n);
    this.tax = grown(this.tax, n);
    this.net = grown(this.net, n);
    this.firstLine = grown(this.firstLine, n);
    this.rows = grown(this.rows, n);
    this.flags = grown(this.flags, n);
    this.sku = grown(this.sku, n);
    this.country = grown(this.country, n);
    this.currency = grown(this.currency, n);
    this.hash = grown(this.hash, n);
    this.idStart = grown(this.idStart, n + 1);
    this.capacity = n;
  }

  private valueId(text: string): number {
    let id = this.valueIds.get(text);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(text);
      this.valueIds.set(text, id);
    }
    return id;
  }

  /** Code unit `i` of a slot's id, or -1 past its end. */
  private unit(slot: number, i: number): number {
    const start = this.idStart[slot]!;
    if ((this.flags[slot]! & WIDE) === 0) return start + i < this.idStart[slot + 1]! ? this.pool[start + i]! : -1;
    const at = start + 2 * i;
    return at < this.idStart[slot + 1]! ? this.pool[at]! + 256 * this.pool[at + 1]! : -1;
  }

  /** Compares two slots' ids code unit by code unit from unit `from` (a shorter id first). */
  private compareIds(a: number, b: number, from: number): number {
    for (let i = from; ; i++) {
      const x = this.unit(a, i);
      const y = this.unit(b, i);
      if (x !== y) return x - y;
      if (x < 0) return 0;
    }
  }

  /**
   * The slots of the sales (with `refunds`, of the refunds) in the order of their ids, code
   * unit by code unit (a shorter id first). That is the order of the ledger's primary key
   * and of the purchase log's (both by transaction id; SQLite compares UTF-8 bytes, which
   * differs only for ids mixing characters above U+E000 with ones beyond U+FFFF), so looking
   * them up and writing them in it walks those B-trees from one end to the other instead of
   * at random places: Google's order ids are random, and a month's report holds ~400,000.
   * No string is made: each slot gets a number (the first code units after the prefix all
   * ids share, then the slot) sorted natively; only slots whose numbers tie are compared
   * further.
   */
  slotsInIdOrder(refunds: boolean): Uint32Array {
    const picked: number[] = [];
    for (let s = 0; s < this.size; s++) if (this.isRefund(s) === refunds) picked.push(s);
    if (picked.length === 0) return new Uint32Array(0);
    // The prefix every picked id shares ("GPA." for Google's).
    const first = picked[0]!;
    let common = this.idStart[first + 1]! - this.idStart[first]!;
    for (const s of picked) {
      let i = 0;
      while (i < common && this.unit(s, i) === this.unit(first, i) && this.unit(s, i) >= 0) i++;
      common = i;
    }
    // key · 2^slotBits + slot, exact in a double. Each code unit is one byte of the key: 0
    // past the id's end, else the unit + 1; a unit from 254 up is 255 and ends the key (the
    // bytes after it stay 0), so ids that tie there are compared further below.
    const slotBits = Math.max(20, Math.ceil(Math.log2(this.size + 1)));
    const units = Math.floor((53 - slotBits) / 8);
    const scale = 2 ** slotBits;
    const keys = new Float64Array(picked.length);
    for (let k = 0; k < picked.length; k++) {
      const s = picked[k]!;
      let key = 0;
      let open = true;
      for (let u = 0; u < units; u++) {
        const c = open ? this.unit(s, common + u) : -1;
        if (c >= 254) open = false;
        key = key * 256 + (c < 0 ? 0 : Math.min(c + 1, 255));
      }
      keys[k] = key * scale + s;
    }
    keys.sort();
    const out = new Uint32Array(keys.length);
    for (let k = 0; k < keys.length; k++) out[k] = keys[k]! % scale;
    // Runs of equal keys: ids alike in those units (or with units from 254 up), in id order.
    for (let k = 0; k < keys.length; ) {
      const key = Math.floor(keys[k]! / scale);
      let end = k + 1;
      while (end < keys.length && Math.floor(keys[end]! / scale) === key) end++;
      if (end - k > 1) out.subarray(k, end).sort((a, b) => this.compareIds(a, b, common) || a - b);
      k = end;
    }
    return out;
  }

  /** Whether the slot is a refund (else a sale). */
  isRefund(slot: number): boolean {
    return (this.flags[slot]! & REFUND) !== 0;
  }

  /** The transaction in a slot, as an object. */
  tx(slot: number): GoogleTx {
    const start = this.idStart[slot]!;
    const end = this.idStart[slot + 1]!;
    let txid: string;
    if ((this.flags[slot]! & WIDE) === 0) txid = this.pool.toString('latin1', start, end);
    else {
      txid = '';
      for (let i = start; i < end; i += 2) txid += String.fromCharCode(this.pool[i]! + 256 * this.pool[i + 1]!);
    }
    const refund = this.isRefund(slot);
    const v = this.values;
    return {
      txid,
      kind: refund ? 'refund' : 'sale',
      order: refund ? txid.slice(0, txid.lastIndexOf(REFUND_MARK)) : txid,
      ms: this.ms[slot]!,
      sku: v[this.sku[slot]!]!,
      country: v[this.country[slot]!]!,
      currency: v[this.currency[slot]!]!,
      gross: this.gross[slot]!,
      fee: this.fee[slot]!,
      tax: this.tax[slot]!,
      net: this.net[slot]!,
      firstLine: this.firstLine[slot]!,
      rows: this.rows[slot]!,
      hasCharge: (this.flags[slot]! & CHARGE) !== 0,
      mismatch: this.mismatches.get(slot),
    };
  }
}
