/**
 * The JSON API client: typed GET/POST/DELETE on /api, with the cookie session. Any 401 outside
 * the login call tells the app (event `vscope:unauthorized`) to show the login form again.
 */
import type { ApiError } from '../../src/shared/api.ts';

/** A failed API call: HTTP status, the API's error code and message, Retry-After if any. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before retrying (429/503 Retry-After), null when not given. */
    readonly retryAfterSec: number | null,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export const unauthorizedEvent = 'vscope:unauthorized';

function isApiError(body: unknown): body is ApiError {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error: unknown = body.error;
  return typeof error === 'object' && error !== null && 'message' in error;
}

/** Retry-After as seconds from now: either delta-seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

async function request<T>(method: string, path: string, body: unknown, signal: AbortSignal | undefined, isLogin: boolean): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiFailure(0, 'network', 'The vscope server cannot be reached. Check your connection; the page retries by itself.', null);
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const code = isApiError(parsed) ? parsed.error.code : `http_${response.status}`;
    const message = isApiError(parsed) ? parsed.error.message : `The server answered ${response.status} ${response.statusText}.`;
    if (response.status === 401 && !isLogin) window.dispatchEvent(new Event(unauthorizedEvent));
    throw new ApiFailure(response.status, code, message, retryAfterSeconds(response.headers.get('retry-after'), Date.now()));
  }
  return parsed as T;
}

/** GETs started at page load, before the app has rendered; each is used once (see prefetch). */
const early = new Map<string, { readonly atMs: number; readonly promise: Promise<unknown> }>();
const earlyMaxAgeMs = 30_000;

/**
 * Starts GETs at page load, in parallel and before the session is known, so that the first
 * view's data is on its way while the app starts. The first apiGet (or apiSession) of the same
 * path within 30 s takes the answer; a failed one (e.g. sent before a login) is asked again then.
 */
export function prefetch(paths: readonly string[]): void {
  for (const path of paths) {
    if (early.has(path)) continue;
    const promise = request<unknown>('GET', path, undefined, undefined, true);
    promise.catch(() => undefined);
    early.set(path, { atMs: Date.now(), promise });
  }
}

function takeEarly<T>(path: string): Promise<T> | null {
  const found = early.get(path);
  if (found === undefined) return null;
  early.delete(path);
  // Promise<unknown> stored for this path; the caller names the type the path answers with.
  return Date.now() - found.atMs <= earlyMaxAgeMs ? (found.promise as Promise<T>) : null;
}

export function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  const taken = takeEarly<T>(path);
  if (taken !== null) return taken.catch(() => request<T>('GET', path, undefined, signal, false));
  return request<T>('GET', path, undefined, signal, false);
}

export function apiLogin<T>(body: unknown): Promise<T> {
  return request<T>('POST', '/api/session', body, undefined, true);
}

export function apiLogout(): Promise<unknown> {
  return request<unknown>('DELETE', '/api/session', undefined, undefined, true);
}

/** The session, or null when not logged in (401). */
export async function apiSession<T>(): Promise<T | null> {
  const ask = (): Promise<T> => request<T>('GET', '/api/session', undefined, undefined, true);
  try {
    const taken = takeEarly<T>('/api/session');
    return await (taken === null ? ask() : taken.catch((error: unknown) => (error instanceof ApiFailure && error.status === 401 ? Promise.reject(error) : ask())));
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) return null;
    throw error;
  }
}
