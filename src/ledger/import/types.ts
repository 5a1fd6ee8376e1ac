/** Types shared by the import pipeline's modules. */
import type { Transaction } from 'kysely';
import type { LedgerDB } from '../schema.js';

/** The import's one write transaction. */
export type Tx = Transaction<LedgerDB>;
