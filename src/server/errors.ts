/**
 * The server's error catalogue: every error a client can receive has a stable `code`, an HTTP
 * status and a message written for the person who reads it. One handler (app.ts) turns them
 * into `{ error: { code, message } }`; anything else becomes a generic 500.
 */

export type ErrorCode =
  | 'bad_request'
  | 'invalid_credentials'
  | 'not_authenticated'
  | 'forbidden_origin'
  | 'no_permission'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_many_attempts'
  | 'vcenter_unavailable'
  | 'unavailable'
  | 'internal';

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown; headers?: Readonly<Record<string, string>> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options?.headers ?? {};
  }
  /** Extra response headers (Retry-After, Allow). */
  readonly headers: Readonly<Record<string, string>>;
}

export const badRequest = (message: string): AppError => new AppError('bad_request', 400, message);

export const invalidCredentials = (): AppError =>
  new AppError('invalid_credentials', 401, 'The username or password is incorrect.');

export const notAuthenticated = (): AppError =>
  new AppError('not_authenticated', 401, 'Log in first: this needs a session (POST /api/session).');

export const forbiddenOrigin = (): AppError =>
  new AppError('forbidden_origin', 403, 'Cross-origin request refused: the Origin header does not match the Host.');

export const noReadPermission = (vcenterName: string): AppError =>
  new AppError(
    'no_permission',
    403,
    `Your vSphere account has no read permission in vCenter ${vcenterName}: ask your vSphere administrator for a role (ReadOnly at least) on what you need to see.`,
  );

/** vCenter accepted the login but could not say what the person may see: no session (fail closed). */
export const visibilityUnavailable = (vcenterName: string, cause: unknown): AppError =>
  new AppError(
    'vcenter_unavailable',
    503,
    `vCenter ${vcenterName} accepted the login but could not say what your account may see, so no session was opened; try again in a moment.`,
    { cause },
  );

export const notFound = (what: string): AppError => new AppError('not_found', 404, `${what} was not found.`);

export const methodNotAllowed = (method: string, path: string, allowed: readonly string[]): AppError =>
  new AppError('method_not_allowed', 405, `${method} is not allowed on ${path}; use ${allowed.join(', ')}.`, {
    headers: { allow: allowed.join(', ') },
  });

export const tooManyAttempts = (retryAfterSec: number): AppError =>
  new AppError('too_many_attempts', 429, `Too many failed logins; try again in ${String(retryAfterSec)} s.`, {
    headers: { 'retry-after': String(retryAfterSec) },
  });

export const vcenterUnavailable = (message: string, cause?: unknown): AppError =>
  new AppError('vcenter_unavailable', 503, message, { cause });

export const unavailable = (message: string): AppError => new AppError('unavailable', 503, message);

/** Body sent for an unexpected error: never the error's own message or stack. */
export const internalErrorBody = {
  error: { code: 'internal' as const, message: 'Internal error; the server log has the details.' },
};
