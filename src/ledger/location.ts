/**
 * Where a ledger lives, from `--db` / `PACKOPS_DB`: a SQLite file (a path, `sqlite:`,
 * `file:`, `:memory:`) or a PostgreSQL database (`postgres://` / `postgresql://`, libpq
 * URL syntax). For PostgreSQL the libpq environment variables fill what the URL leaves
 * out (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE), as psql does.
 *
 * A password never leaves this module except inside the driver's connection settings:
 * `display` is the URL with the password replaced by `***`, and the password in use is
 * registered with the shared redactor (messages and stderr, never data: see redact.ts).
 */
import { readInputSync } from '../shared/input.js';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { inputError, isPackopsError } from '../shared/errors.js';
import { addSecret, redactSecrets } from '../shared/redact.js';

export interface SqliteLocation {
  kind: 'sqlite';
  /** Absolute path, or ":memory:". */
  file: string;
  display: string;
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface PostgresLocation {
  kind: 'postgres';
  host: string;
  port: number;
  database: string;
  user: string;
  /** Only for the driver; never printed (see `display`). */
  password: string | undefined;
  sslmode: SslMode;
  /** PEM text of sslrootcert / sslcert / sslkey when the URL names them. */
  ssl: { ca?: string; cert?: string; key?: string };
  /** The URL as given (environment values not added), password as `***`. */
  display: string;
  /** "host:port, database name": what an unreachable-server message names. */
  target: string;
}

export type LedgerLocation = SqliteLocation | PostgresLocation;

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}

/** A URL with its password (user-info or `password=` parameter) replaced by `***`. */
export function redactUrl(text: string): string {
  let out = redactSecrets(text);
  // The password runs to the LAST "@" of the authority (libpq reads an unencoded "@" so).
  out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#]*)@/i, (_m, head: string, pw: string) => (pw === '' ? `${head}@` : `${head}***@`));
  return out.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

function decode(text: string, what: string, display: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw inputError('LEDGER_UNSUPPORTED', `The ${what} in ${display} is not valid percent-encoding.`);
  }
}

/** A certificate or key file named by a URL (sslrootcert, sslcert, sslkey): far below this. */
const MAX_PEM_BYTES = 1024 * 1024;

function readPem(path: string, what: string, display: string): string {
  try {
    return readInputSync(path, { what, maxBytes: MAX_PEM_BYTES }).toString('utf8');
  } catch (err) {
    // A FIFO, device or oversized file keeps its own code (INPUT_NOT_REGULAR, INPUT_TOO_LARGE).
    if (isPackopsError(err) && err.code !== 'PATH_NOT_FOUND') throw err;
    throw inputError('PATH_NOT_FOUND', `Cannot read the ${what} ${path} named by ${display}.`);
  }
}

/**
 * Registers the password of a PostgreSQL location before anything can print it: the URL's
 * own (user-info or `password=`), or PGPASSWORD when the URL has none (what libpq would
 * send). A SQLite location has no password: PGPASSWORD is not this run's secret then.
 */
export function registerPasswords(text: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (text === undefined || !isPostgresUrl(text)) return;
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(text.trim())?.[1];
  const own = userInfo?.includes(':') ? safeDecode(userInfo.slice(userInfo.indexOf(':') + 1)) : undefined;
  if (own) addSecret(own);
  const qpw = /[?&]password=([^&#]*)/i.exec(text)?.[1];
  if (qpw) addSecret(safeDecode(qpw));
  if (!own && !qpw && env.PGPASSWORD) addSecret(env.PGPASSWORD);
}

/** Parses a postgres:// URL the way libpq does, filling gaps from the PG* environment variables. */
export function parsePostgresUrl(text: string, env: NodeJS.ProcessEnv = process.env): PostgresLocation {
  const trimmed = text.trim();
  // Register the password before anything can fail and echo the URL.
  registerPasswords(trimmed, env);
  const display = redactUrl(trimmed);

  const m = /^postgres(?:ql)?:\/\/(?:([^/?#]*)@)?([^/?#@]*)(?:\/([^?#]*))?(?:\?([^#]*))?(?:#.*)?$/i.exec(trimmed);
  if (!m) throw inputError('LEDGER_UNSUPPORTED', `${display} is not a PostgreSQL URL (postgres://user@host:port/database).`);
  const [, info, hostPort = '', path = '', query = ''] = m;
  let user: string | undefined;
  let password: string | undefined;
  if (info !== undefined) {
    const colon = info.indexOf(':');
    user = decode(colon < 0 ? info : info.slice(0, colon), 'user name', display) || undefined;
    password = colon < 0 ? undefined : decode(info.slice(colon + 1), 'password', display) || undefined;
  }
  let host: string | undefined;
  let port: string | undefined;
  if (hostPort !== '') {
    const bracket = /^\[([^\]]+)\](?::(\d*))?$/.exec(hostPort);
    if (bracket) {
      host = bracket[1];
      port = bracket[2] || undefined;
    } else {
      if (hostPort.includes(',')) {
        throw inputError('LEDGER_UNSUPPORTED', `${display} names several hosts; packops connects to one.`);
      }
      const colon = hostPort.lastIndexOf(':');
      host = decode(colon < 0 ? hostPort : hostPort.slice(0, colon), 'host', display) || undefined;
      port = colon < 0 ? undefined : hostPort.slice(colon + 1) || undefined;
    }
  }
  let database = path !== '' ? decode(path, 'database name', display) : undefined;
  const params = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq), 'parameter', display);
    params.set(key, decode(eq < 0 ? '' : part.slice(eq + 1).replace(/\+/g, ' '), `parameter ${key}`, display));
  }
  const known = new Set(['host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name']);
  for (const key of params.keys()) {
    if (!known.has(key)) {
      throw inputError('LEDGER_UNSUPPORTED', `${display}: the connection parameter "${key}" is not supported.`, {
        hint: `Supported: ${[...known].join(', ')}.`,
      });
    }
  }
  host = params.get('host') || params.get('hostaddr') || host || env.PGHOST || undefined;
  port = params.get('port') || port || env.PGPORT || undefined;
  user = params.get('user') || user || env.PGUSER || undefined;
  password = params.get('password') || password || env.PGPASSWORD || undefined;
  database = params.get('dbname') || database || env.PGDATABASE || undefined;
  const sslText = (params.get('sslmode') || env.PGSSLMODE || 'prefer').toLowerCase();
  if (!SSL_MODES.includes(sslText as SslMode)) {
    throw inputError('LEDGER_UNSUPPORTED', `sslmode "${sslText}" is not one of ${SSL_MODES.join(', ')}.`);
  }
  if (password) addSecret(password);

  // libpq's defaults: the Unix socket folder, 5432, the operating-system user, a database named after the user.
  host ??= '/var/run/postgresql';
  const portNumber = port === undefined ? 5432 : Number(port);
  if (!/^\d+$/.test(String(port ?? '5432')) || portNumber < 1 || portNumber > 65535) {
    throw inputError('LEDGER_UNSUPPORTED', `${display}: the port "${port}" is not a port number.`);
  }
  user ??= env.USER ?? env.LOGNAME ?? 'postgres';
  database ??= user;
  const ssl: PostgresLocation['ssl'] = {};
  const rootcert = params.get('sslrootcert');
  if (rootcert) ssl.ca = readPem(rootcert, 'sslrootcert', display);
  const cert = params.get('sslcert');
  if (cert) ssl.cert = readPem(cert, 'sslcert', display);
  const key = params.get('sslkey');
  if (key) ssl.key = readPem(key, 'sslkey', display);
  if (sslText === 'verify-ca' && !ssl.ca) {
    throw inputError('LEDGER_UNSUPPORTED', `sslmode=verify-ca needs sslrootcert=<file> with the CA certificate.`);
  }
  return {
    kind: 'postgres',
    host,
    port: portNumber,
    database,
    user,
    password,
    sslmode: sslText as SslMode,
    ssl,
    display,
    target: `${host.startsWith('/') ? `${host} (socket)` : host}:${portNumber}, database ${database}`,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Resolves `--db`: a PostgreSQL URL, or a path, `sqlite:<path>`, `sqlite://<path>`, `file:` URL, `:memory:`. */
export function parseLedgerLocation(location: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): LedgerLocation {
  const text = location.trim();
  if (isPostgresUrl(text)) return parsePostgresUrl(text, env);
  const sqlite = (file: string): SqliteLocation => ({ kind: 'sqlite', file, display: file });
  if (text === ':memory:' || text === 'sqlite::memory:') return sqlite(':memory:');
  if (/^file:/i.test(text)) {
    try {
      return sqlite(fileURLToPath(text));
    } catch {
      throw inputError('LEDGER_UNREADABLE', `"${redactUrl(location)}" is not a valid file: URL.`);
    }
  }
  const m = /^sqlite:(?:\/\/)?(.*)$/i.exec(text);
  if (m) return sqlite(resolve(cwd, m[1] ?? ''));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw inputError('LEDGER_UNSUPPORTED', `Unsupported ledger URL scheme in "${redactUrl(location)}".`, {
      hint: 'Use a path, a sqlite: or file: URL, or a postgres:// URL.',
    });
  }
  return sqlite(resolve(cwd, text));
}
