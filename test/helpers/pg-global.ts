// vitest global setup: after the run, drop the PostgreSQL databases the tests made.
import { dropRunDatabases } from './ledgers.js';

export default function setup(): () => Promise<void> {
  return () => dropRunDatabases();
}
