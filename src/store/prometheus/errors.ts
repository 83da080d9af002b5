/**
 * The errors a Prometheus-compatible engine gives vscope, for remote write and PromQL alike.
 * Each has a stable `code`; `status` is the engine's HTTP status (null when none came back);
 * `engineMessage` is what the engine said, truncated, never a credential.
 */

export type EngineErrorCode =
  /** The engine refused a sample as older than it accepts: not retried. */
  | 'sampleTooOld'
  /** 401 or 403: the credentials or the tenant header are wrong. */
  | 'auth'
  /** Any other 4xx, or an answer that is not what the protocol says: not retried. */
  | 'rejected'
  /** Network errors, timeouts, 5xx and 429 until the retry budget ran out. */
  | 'unavailable'
  /** A PromQL query the engine could not run (bad query, too many points, timeout inside). */
  | 'query';

/** Longest engine message an error keeps, characters. */
export const engineMessageLimit = 512;

/** The engine's answer body as an error detail: whitespace folded, at most `engineMessageLimit` characters. */
export function truncateEngineMessage(text: string): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length > engineMessageLimit ? `${folded.slice(0, engineMessageLimit)}…` : folded;
}

export class EngineError extends Error {
  override readonly name: string = 'EngineError';
  readonly code: EngineErrorCode;
  /** HTTP status of the engine's answer; null for network errors and timeouts. */
  readonly status: number | null;
  /** What the engine answered (truncated), '' when it answered nothing. */
  readonly engineMessage: string;

  constructor(code: EngineErrorCode, message: string, details: { status?: number | null; engineMessage?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status ?? null;
    this.engineMessage = details.engineMessage ?? '';
  }
}

/**
 * The engine refused samples as too old. Prometheus 2.42 answers "too old sample" with HTTP 500
 * when an out-of-order window is set and the sample is older than it ("out of bounds" or
 * "out of order sample", HTTP 400, without one); a naive sender would retry the 500 forever.
 */
export class SampleTooOld extends EngineError {
  override readonly name = 'SampleTooOld';
  constructor(url: string, status: number, engineMessage: string) {
    super(
      'sampleTooOld',
      `${url} refused samples as too old (HTTP ${status}: ${engineMessage}): on Prometheus raise ` +
        'storage.tsdb.out_of_order_time_window (and --storage.tsdb.retention.time) to cover the history vscope imports; ' +
        'these samples are not sent again',
      { status, engineMessage },
    );
  }
}

/** 401 or 403: says which setting to check. */
export class EngineAuthFailed extends EngineError {
  override readonly name = 'EngineAuthFailed';
  constructor(url: string, status: number, engineMessage: string, settingHint: string) {
    super(
      'auth',
      `${url} refused vscope's credentials (HTTP ${status}${engineMessage ? `: ${engineMessage}` : ''}): check ${settingHint}`,
      { status, engineMessage },
    );
  }
}

/** The engine answered with a 4xx other than 401, 403 and 429, or with something unexpected. */
export class EngineRejected extends EngineError {
  override readonly name = 'EngineRejected';
  constructor(message: string, status: number | null, engineMessage: string) {
    super('rejected', message, { status, engineMessage });
  }
}

/** The engine could not be reached, or kept answering 5xx/429, until the retry budget ran out. */
export class EngineUnavailable extends EngineError {
  override readonly name = 'EngineUnavailable';
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(message: string, details: { status: number | null; engineMessage: string; attempts: number; cause?: unknown }) {
    super('unavailable', message, details);
    this.attempts = details.attempts;
  }
}

/** A PromQL query failed inside the engine (its `errorType` and `error`). */
export class QueryFailed extends EngineError {
  override readonly name = 'QueryFailed';
  readonly errorType: string;
  constructor(message: string, status: number | null, errorType: string, engineMessage: string) {
    super('query', message, { status, engineMessage });
    this.errorType = errorType;
  }
}
