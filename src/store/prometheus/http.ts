/**
 * What remote write and PromQL share on the wire: the engine's URL, credentials, extra headers
 * (a Mimir tenant's `X-Scope-OrgID`), timeouts and one keep-alive undici Agent per client.
 * Credentials come from the caller's values and only ever go into request headers: never into
 * an error message or a log line.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { EngineRejected } from './errors.ts';

/** Bearer token, or HTTP basic auth. */
export type EngineAuth =
  | { readonly bearerToken: string }
  | { readonly username: string; readonly password: string };

export interface EngineHttpOptions {
  /** Full endpoint URL: `.../api/v1/write` for remote write, the API root (`http://host:9090`) for PromQL. */
  readonly url: string;
  readonly auth?: EngineAuth;
  /** Extra headers on every request, e.g. `{ 'X-Scope-OrgID': 'tenant-1' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per HTTP request, milliseconds (connect, answer and body). Default 30 000. */
  readonly timeoutMs?: number;
  /** vscope's version, sent as `User-Agent: vscope/<version>`. */
  readonly version: string;
  /**
   * The settings a user should check when the engine answers 401/403, named in the error.
   * Default: "the bearer token or basic auth (and tenant header) set for <url>".
   */
  readonly authSettingHint?: string;
}

export const defaultTimeoutMs = 30_000;

/** Headers the client sets itself; extra headers may not replace them. */
const reservedHeaders = new Set(['content-type', 'content-encoding', 'content-length', 'host', 'user-agent', 'x-prometheus-remote-write-version']);

/** The URL without userinfo, query or fragment: safe in messages. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Checks the options once: an http(s) URL without credentials in it, header names and values
 * without line breaks, no extra header replacing one the protocol needs.
 * @throws EngineRejected naming the bad option
 */
export function parseEngineUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EngineRejected(`invalid engine URL ${JSON.stringify(raw)}: expected e.g. http://prometheus:9090`, null, '');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EngineRejected(`invalid engine URL scheme ${url.protocol}: use http:// or https://`, null, '');
  }
  if (url.username !== '' || url.password !== '') {
    throw new EngineRejected(`the engine URL ${displayUrl(url)} carries credentials: give them as basic auth settings instead`, null, '');
  }
  return url;
}

/** Authorization and extra headers for every request. */
export function baseHeaders(options: EngineHttpOptions): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': `vscope/${options.version}` };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) throw new EngineRejected(`invalid extra header name ${JSON.stringify(name)}`, null, '');
    if (/[\r\n\0]/.test(value)) throw new EngineRejected(`the extra header ${name} has a line break or NUL in its value`, null, '');
    if (reservedHeaders.has(lower)) throw new EngineRejected(`the extra header ${name} would replace one vscope sets itself`, null, '');
    if (lower === 'authorization' && options.auth) throw new EngineRejected('give either an Authorization extra header or auth settings, not both', null, '');
    headers[lower] = value;
  }
  const auth = options.auth;
  if (auth && 'bearerToken' in auth) {
    if (/[\r\n\0]/.test(auth.bearerToken) || auth.bearerToken === '') throw new EngineRejected('the bearer token is empty or has a line break', null, '');
    headers['authorization'] = `Bearer ${auth.bearerToken}`;
  } else if (auth) {
    if (auth.username.includes(':')) throw new EngineRejected('a basic auth username cannot contain ":"', null, '');
    headers['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  }
  return headers;
}

export function authHint(options: EngineHttpOptions, url: URL): string {
  return options.authSettingHint ?? `the bearer token or basic auth (and tenant header) set for ${displayUrl(url)}`;
}

/** One keep-alive connection pool per client. */
export function createAgent(timeoutMs: number): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    connect: { timeout: Math.min(timeoutMs, 10_000) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connections: 8,
  });
}

export interface EngineAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/**
 * Sends one request and reads the whole answer. Network errors and the timeout reject (the
 * caller decides about retries); every status resolves.
 */
export async function send(
  dispatcher: Dispatcher,
  url: URL,
  init: { readonly method: 'POST' | 'GET'; readonly headers: Record<string, string>; readonly body?: Uint8Array | string; readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
): Promise<EngineAnswer> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  const response = await request(url, {
    method: init.method,
    dispatcher,
    headers: init.headers,
    ...(init.body === undefined ? {} : { body: init.body }),
    signal,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delta-seconds or an HTTP date.
 * @returns null when absent or unreadable
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const dateMs = Date.parse(text);
  if (Number.isNaN(dateMs)) return null;
  return Math.max(0, dateMs - nowMs);
}
