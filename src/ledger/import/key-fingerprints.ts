/**
 * Which rows of a staged file may share a transaction key, in a few bytes per row: each
 * key's 32-bit fingerprint and the first row that had it, in two typed arrays (open
 * addressing), instead of the keys themselves (a Set of a million keys costs ~100 MB). A row
 * whose fingerprint was seen before is a *candidate* (a later copy, or another key with the
 * same fingerprint); the caller settles candidates exactly against the staged keys. Every
 * copy of a key that appears more than once is a candidate or the first row recorded for
 * its fingerprint, so `suspects()` holds every row a duplicate check must look at.
 */
export class KeyFingerprints {
  private fps: Int32Array;
  private rows: Int32Array;
  private size = 0;
  /** Rows whose fingerprint was taken, and the first row that took it. */
  private readonly candidates: number[] = [];

  /** `bits` narrows fingerprints (tests use a few bits to make every row a candidate). */
  constructor(private readonly bits = 32) {
    this.fps = new Int32Array(1 << 16);
    this.rows = new Int32Array(1 << 16);
  }

  /** The fingerprint of a transaction key (FNV-1a over store, NUL, id), never 0. */
  fingerprint(store: string, id: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < store.length; i++) h = Math.imul(h ^ store.charCodeAt(i), 0x01000193);
    h = Math.imul(h, 0x01000193); // the NUL between them
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    if (this.bits < 32) h &= (1 << this.bits) - 1;
    return h === 0 ? 1 : h;
  }

  /** Records `row`'s key; a candidate when its fingerprint was recorded before. */
  add(fp: number, row: number): void {
    // Grown at three quarters full: 2^21 slots (16 MiB for both arrays) hold 1.5M rows.
    if (this.size * 4 >= this.fps.length * 3) this.grow();
    const mask = this.fps.length - 1;
    let i = fp & mask;
    for (;;) {
      const f = this.fps[i]!;
      if (f === 0) {
        this.fps[i] = fp;
        this.rows[i] = row;
        this.size++;
        return;
      }
      if (f === fp) {
        this.candidates.push(row, this.rows[i]!);
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** The first row recorded with this fingerprint (-1: none). */
  first(fp: number): number {
    const mask = this.fps.length - 1;
    for (let i = fp & mask; ; i = (i + 1) & mask) {
      const f = this.fps[i]!;
      if (f === 0) return -1;
      if (f === fp) return this.rows[i]!;
    }
  }

  /** Every row that may share its key with another: the candidates and the first rows they met. */
  suspects(): Set<number> {
    return new Set(this.candidates);
  }

  private grow(): void {
    const fps = this.fps;
    const rows = this.rows;
    this.fps = new Int32Array(fps.length * 2);
    this.rows = new Int32Array(fps.length * 2);
    const mask = this.fps.length - 1;
    for (let j = 0; j < fps.length; j++) {
      const fp = fps[j]!;
      if (fp === 0) continue;
      let i = fp & mask;
      while (this.fps[i] !== 0) i = (i + 1) & mask;
      this.fps[i] = fp;
      this.rows[i] = rows[j]!;
    }
  }
}
