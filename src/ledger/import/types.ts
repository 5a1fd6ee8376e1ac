/** Types shared by the import pipeline's modules. */
import type { Transaction } from 'kysely';
import type { LedgerDB } from '../schema.js';

/** The import's one write transaction. */
export type Tx = Transaction<LedgerDB>;

/**
 * The "write staged rows" step (writer.ts): `add` each accepted row, `flush` before every
 * chunk's lookups; after `flush`, every row added so far is visible inside the transaction.
 */
export interface RowWriter {
  /** One row's values, in the order of the columns the writer was made for. */
  add(values: unknown[]): Promise<void>;
  /** Writes everything added so far. */
  flush(): Promise<void>;
}

export type RowWriterFactory = (trx: Tx, table: keyof LedgerDB, columns: readonly string[]) => RowWriter;
