/**
 * Where the PostgreSQL store connects, and the errors it reports. The URL is taken apart here
 * (never handed to the driver as a string), so that the password, given separately or inside
 * the URL, appears in no message or log: everything shows `describe`'s form instead.
 */

/** Connection settings, ready for the driver. */
export interface PostgresTarget {
  /** Host name, address, or a Unix socket folder (starting with `/`). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Undefined when none was given (trust or peer authentication). */
  readonly password: string | undefined;
  readonly ssl: false | { readonly rejectUnauthorized: boolean };
  readonly applicationName: string;
  /** `postgres://user@host:port/database`, without the password: what messages show. */
  readonly described: string;
}

/** Thrown for a connection URL that cannot be used; its message never holds the password. */
export class DatabaseUrlError extends Error {
  readonly code = 'DATABASE_URL_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}

const sslModes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/**
 * Parses `postgres://user[:password]@host[:port]/database[?sslmode=...&host=/socket/dir&application_name=...]`.
 * `password` (from a file, say) wins over one inside the URL.
 * sslmode: `disable` (default) and `prefer` connect in the clear, `require` encrypts without
 * checking the certificate, `verify-ca` and `verify-full` check it against the system's CAs.
 * @throws DatabaseUrlError naming what is wrong (never the password)
 */
export function parseDatabaseUrl(url: string, password?: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('The database URL is not a URL: expected postgres://USER@HOST:PORT/DATABASE.');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseUrlError(`The database URL must start with postgres:// (got ${parsed.protocol}//).`);
  }
  const user = decodeURIComponent(parsed.username);
  if (user === '') throw new DatabaseUrlError('The database URL names no user: expected postgres://USER@HOST:PORT/DATABASE.');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new DatabaseUrlError('The database URL names no database: expected postgres://USER@HOST:PORT/DATABASE.');
  }
  const port = parsed.port === '' ? 5432 : Number(parsed.port);
  let host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let ssl: PostgresTarget['ssl'] = false;
  let applicationName = 'vscope';
  for (const [name, value] of parsed.searchParams) {
    if (name === 'sslmode') {
      if (!(sslModes as readonly string[]).includes(value)) {
        throw new DatabaseUrlError(`The database URL's sslmode must be one of ${sslModes.join(', ')} (got ${value}).`);
      }
      ssl = value === 'disable' || value === 'prefer' ? false : { rejectUnauthorized: value !== 'require' };
    } else if (name === 'host') {
      host = value;
    } else if (name === 'application_name') {
      applicationName = value;
    } else {
      throw new DatabaseUrlError(`The database URL has an unknown parameter ${name}: vscope knows sslmode, host and application_name.`);
    }
  }
  if (host === '') throw new DatabaseUrlError('The database URL names no host: expected postgres://USER@HOST:PORT/DATABASE.');
  const inUrl = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    user,
    database,
    password: password ?? inUrl,
    ssl,
    applicationName,
    described: host.startsWith('/')
      ? `postgres://${encodeURIComponent(user)}@/${encodeURIComponent(database)}?host=${host}&port=${port}`
      : `postgres://${encodeURIComponent(user)}@${shownHost}:${port}/${encodeURIComponent(database)}`,
  };
}

/** Thrown when the database cannot be reached or dropped the connection; the next call tries again. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  constructor(described: string, cause: unknown) {
    super(
      `PostgreSQL at ${described} is unavailable (${causeText(cause)}): check that it runs and accepts ` +
        'connections; vscope reconnects by itself.',
      { cause },
    );
    this.name = 'DatabaseUnavailableError';
  }
}

/** Thrown when the database was written by a newer vscope (it holds migrations we do not know). */
export class DatabaseTooNewError extends Error {
  readonly code = 'DATABASE_TOO_NEW';
  constructor(described: string, unknownIds: readonly string[]) {
    super(
      `The PostgreSQL database ${described} was written by a newer version of vscope (unknown schema migrations: ` +
        `${unknownIds.join(', ')}). Upgrade vscope, or point VSCOPE_DATABASE_URL at another database.`,
    );
    this.name = 'DatabaseTooNewError';
  }
}

/** Network errors, and PostgreSQL's SQLSTATE classes 08 (connection) and 57P (shutdown, cannot connect now). */
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ENOENT']);
const unavailableMessages = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Connection ended/i;

/** Whether an error means "the database is not there right now" rather than "this statement is wrong". */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  return unavailableMessages.test(error.message);
}

function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof AggregateError && cause.message === '' ? cause.errors.map(causeText).join('; ') : cause.message;
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
