/**
 * Prometheus remote write 1.0, by hand: the protobuf WriteRequest and its snappy block
 * compression, and `RemoteWriteClient`, which sends it in bounded requests with retries.
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }   // timestamp: ms
 *
 * Every field is written, defaults included (legal protobuf, and a fixed size per sample).
 * One request is encoded at a time into one buffer sized up front: memory stays at one request
 * whatever the size of a write.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Agent } from 'undici';
import { EngineAuthFailed, EngineRejected, EngineUnavailable, SampleTooOld, truncateEngineMessage } from './errors.ts';
import { authHint, baseHeaders, createAgent, defaultTimeoutMs, displayUrl, parseEngineUrl, parseRetryAfter, send, type EngineHttpOptions } from './http.ts';

// snappyjs is CommonJS without type declarations: this is the part of it vscope uses.
const snappy = createRequire(import.meta.url)('snappyjs') as {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
};

export interface Label {
  readonly name: string;
  readonly value: string;
}

/** One series and its samples, as parallel columns (no object per sample). */
export interface Series {
  /** `__name__` and every other label, in any order (the encoder sorts them); empty values are left out. */
  readonly labels: readonly Label[];
  /** Unix milliseconds, integers, strictly ascending. */
  readonly timestampsMs: readonly number[];
  /** One finite value per timestamp. */
  readonly values: readonly number[];
}

const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A series checked and with its labels already encoded (reused when it spans requests). */
interface PreparedSeries {
  readonly labelBlock: Buffer;
  readonly timestampsMs: readonly number[];
  readonly values: readonly number[];
}

/** A run of one series' samples that goes into one request. */
interface Slice {
  readonly series: PreparedSeries;
  readonly start: number;
  readonly end: number;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function writeVarint(buffer: Buffer, offset: number, value: number): number {
  // Above 2^31 bit operators would truncate: divide instead (exact for safe integers).
  while (value >= 128) {
    buffer[offset++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  buffer[offset++] = value;
  return offset;
}

function writeBytesField(buffer: Buffer, offset: number, tag: number, text: string, byteLength: number): number {
  buffer[offset++] = tag;
  offset = writeVarint(buffer, offset, byteLength);
  // Label names and most values are short ASCII (as many bytes as characters): copying the
  // char codes beats Buffer#write's native call for them, the hot spot of a cycle's encoding.
  if (byteLength === text.length) {
    for (let i = 0; i < byteLength; i++) buffer[offset + i] = text.charCodeAt(i);
    return offset + byteLength;
  }
  return offset + buffer.write(text, offset, byteLength, 'utf8');
}

/** Label names already checked: a process writes few distinct ones, each on every series. */
const validLabelNames = new Set<string>();

function isValidLabelName(name: string): boolean {
  if (validLabelNames.has(name)) return true;
  if (!labelNamePattern.test(name)) return false;
  if (validLabelNames.size < 1024) validLabelNames.add(name);
  return true;
}

/**
 * Checks one series and encodes its labels (sorted by name, `__name__` first by byte order).
 * @throws RangeError naming the series for bad labels, unsorted or non-integer timestamps,
 *   NaN or infinite values, or columns of different lengths
 */
/**
 * Each label's encoded Label message (tag and length included), by label object: a writer
 * passes the same label objects for every series of an entity (19 metrics, their rollups), so
 * each is checked and encoded once, not once per series.
 */
const encodedLabels = new WeakMap<Label, Buffer>();

function encodedLabel(label: Label): Buffer {
  const known = encodedLabels.get(label);
  if (known !== undefined) return known;
  const nameLength = Buffer.byteLength(label.name, 'utf8');
  const valueLength = Buffer.byteLength(label.value, 'utf8');
  const size = 1 + varintLength(nameLength) + nameLength + 1 + varintLength(valueLength) + valueLength;
  const bytes = Buffer.allocUnsafe(1 + varintLength(size) + size);
  bytes[0] = 0x0a;
  let offset = writeVarint(bytes, 1, size);
  offset = writeBytesField(bytes, offset, 0x0a, label.name, nameLength);
  writeBytesField(bytes, offset, 0x12, label.value, valueLength);
  encodedLabels.set(label, bytes);
  return bytes;
}

function prepareSeries(series: Series): PreparedSeries {
  const labels = series.labels.filter((label) => label.value !== '').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const name = labels.find((label) => label.name === '__name__')?.value;
  const describe = (): string => `series ${name ?? '(no __name__)'}{${labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(',')}}`;
  if (name === undefined || !metricNamePattern.test(name)) throw new RangeError(`${describe()}: __name__ must be a valid metric name`);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as Label;
    if (!isValidLabelName(label.name)) throw new RangeError(`${describe()}: invalid label name ${JSON.stringify(label.name)}`);
    if (i > 0 && (labels[i - 1] as Label).name === label.name) throw new RangeError(`${describe()}: label ${label.name} appears twice`);
  }
  const { timestampsMs, values } = series;
  if (timestampsMs.length !== values.length) throw new RangeError(`${describe()}: ${timestampsMs.length} timestamps for ${values.length} values`);
  let previous = -1;
  for (let i = 0; i < timestampsMs.length; i++) {
    const ts = timestampsMs[i] as number;
    if (!Number.isSafeInteger(ts) || ts < 0) throw new RangeError(`${describe()}: timestamp ${ts} is not a whole number of ms since 1970`);
    if (ts <= previous) throw new RangeError(`${describe()}: timestamps must be strictly ascending (${ts} after ${previous})`);
    previous = ts;
    const value = values[i] as number;
    if (!Number.isFinite(value)) throw new RangeError(`${describe()}: value ${value} at ${ts} is not finite (NaN and Infinity are refused)`);
  }
  // Label { name = 1; value = 2 } inside TimeSeries.labels = 1.
  const labelBlock = Buffer.concat(labels.map(encodedLabel));
  return { labelBlock, timestampsMs, values };
}

/** Size of one Sample message: value (tag + 8 bytes) and timestamp (tag + varint). */
function sampleSize(timestampMs: number): number {
  return 1 + 8 + 1 + varintLength(timestampMs);
}

function timeSeriesSize(slice: Slice): number {
  let size = slice.series.labelBlock.length;
  for (let i = slice.start; i < slice.end; i++) size += 2 + sampleSize(slice.series.timestampsMs[i] as number);
  return size;
}

/** Encodes one WriteRequest holding the given slices (uncompressed protobuf). */
function encodeSlices(slices: readonly Slice[]): Buffer {
  const sizes = slices.map(timeSeriesSize);
  const total = sizes.reduce((sum, size) => sum + 1 + varintLength(size) + size, 0);
  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  slices.forEach((slice, index) => {
    const size = sizes[index] as number;
    buffer[offset++] = 0x0a;
    offset = writeVarint(buffer, offset, size);
    offset += slice.series.labelBlock.copy(buffer, offset);
    const { timestampsMs, values } = slice.series;
    for (let i = slice.start; i < slice.end; i++) {
      const ts = timestampsMs[i] as number;
      buffer[offset++] = 0x12;
      buffer[offset++] = sampleSize(ts); // at most 20: one byte
      buffer[offset++] = 0x09;
      offset = buffer.writeDoubleLE(values[i] as number, offset);
      buffer[offset++] = 0x10;
      offset = writeVarint(buffer, offset, ts);
    }
  });
  return buffer;
}

/** Groups prepared series into requests of at most `maxSamples` samples, splitting long series. */
function* planRequests(series: readonly PreparedSeries[], maxSamples: number): Generator<Slice[]> {
  let slices: Slice[] = [];
  let room = maxSamples;
  for (const one of series) {
    let start = 0;
    while (start < one.timestampsMs.length) {
      const end = Math.min(one.timestampsMs.length, start + room);
      slices.push({ series: one, start, end });
      room -= end - start;
      start = end;
      if (room === 0) {
        yield slices;
        slices = [];
        room = maxSamples;
      }
    }
  }
  if (slices.length > 0) yield slices;
}

/**
 * Encodes series into one uncompressed WriteRequest (all of them, unsplit).
 * @throws RangeError for invalid series (see `Series`)
 */
export function encodeWriteRequest(series: readonly Series[]): Uint8Array {
  return encodeSlices(series.map(prepareSeries).map((prepared) => ({ series: prepared, start: 0, end: prepared.timestampsMs.length })));
}

/** Snappy block format (not the framed stream format), as remote write wants it. */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  return snappy.compress(bytes);
}

/**
 * Snappy block decompression.
 * @param maxLength refuse anything that would decompress to more bytes
 */
export function snappyUncompress(bytes: Uint8Array, maxLength = 64 * 1024 * 1024): Uint8Array {
  return snappy.uncompress(bytes, maxLength);
}

export interface RetryPolicy {
  /** First backoff, milliseconds. Default 250. */
  readonly initialDelayMs?: number;
  /** Longest backoff between two attempts, milliseconds. Default 30 000. */
  readonly maxDelayMs?: number;
  /**
   * How long one request may be retried in all, milliseconds, before the write fails with
   * EngineUnavailable. Default 60 000: less than a collection cycle, so a cycle ends (and says
   * why) while the engine is down; the next cycle sends the same samples again.
   */
  readonly maxElapsedMs?: number;
}

export interface RemoteWriteOptions extends EngineHttpOptions {
  /** Most samples per HTTP request. Default 5 000 (about 100 KB of protobuf before snappy). */
  readonly maxSamplesPerRequest?: number;
  readonly retry?: RetryPolicy;
  /** Called before each retry: for a log line (the error carries no credentials). */
  readonly onRetry?: (event: { readonly attempt: number; readonly delayMs: number; readonly error: Error }) => void;
  /** Time and randomness, passed in so that tests can observe the backoff. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

export interface WriteSummary {
  /** HTTP requests the engine accepted. */
  readonly requests: number;
  readonly samples: number;
  /** Attempts that failed and were retried. */
  readonly retries: number;
}

/**
 * Bodies of the answers with which engines refuse samples as too old or out of order:
 * Prometheus (storage/interface.go: "too old sample" with HTTP 500 in 2.39 to 2.4x when an
 * out-of-order window is set; "out of bounds" or "out of order sample" with HTTP 400 without
 * one) and Mimir (err-mimir-sample-timestamp-too-old, err-mimir-sample-out-of-order).
 * VictoriaMetrics answers 204 and drops samples outside -retentionPeriod without an error.
 */
const tooOldPattern = /too old sample|out of bounds|out of order sample|sample-timestamp-too-old|sample-out-of-order/i;

/** Whether an engine's error answer means "samples too old", never worth retrying. */
export function isTooOldAnswer(status: number, body: string): boolean {
  return (status === 400 || status === 500) && tooOldPattern.test(body);
}

/** Sends WriteRequests to one remote write endpoint. One instance per endpoint; `close` it at shutdown. */
export class RemoteWriteClient {
  readonly url: string;
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #maxSamples: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxElapsedMs: number;
  readonly #authHint: string;
  readonly #onRetry: RemoteWriteOptions['onRetry'];
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;

  /** @throws EngineRejected for a bad URL or header option */
  constructor(options: RemoteWriteOptions) {
    this.#url = parseEngineUrl(options.url);
    this.url = displayUrl(this.#url);
    this.#headers = {
      ...baseHeaders(options),
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'x-prometheus-remote-write-version': '0.1.0',
    };
    this.#timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.#agent = createAgent(this.#timeoutMs);
    this.#maxSamples = options.maxSamplesPerRequest ?? 5000;
    if (!Number.isInteger(this.#maxSamples) || this.#maxSamples < 1) throw new RangeError('maxSamplesPerRequest must be a positive integer');
    this.#initialDelayMs = options.retry?.initialDelayMs ?? 250;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
    this.#maxElapsedMs = options.retry?.maxElapsedMs ?? 60_000;
    this.#authHint = authHint(options, this.#url);
    this.#onRetry = options.onRetry;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined));
    this.#random = options.random ?? Math.random;
  }

  /**
   * Sends every sample, in requests of at most `maxSamplesPerRequest` samples, one after the
   * other, and resolves only once the engine accepted all of them: move a high-water mark after
   * that, never before. Every series is checked before anything is sent.
   * @throws RangeError for invalid series (nothing sent)
   * @throws SampleTooOld, EngineAuthFailed, EngineRejected (not retried) or EngineUnavailable
   *   (retry budget spent); requests before the failing one were accepted
   */
  async write(series: readonly Series[], signal?: AbortSignal): Promise<WriteSummary> {
    const prepared = series.map(prepareSeries);
    let requests = 0;
    let samples = 0;
    let retries = 0;
    for (const slices of planRequests(prepared, this.#maxSamples)) {
      const body = snappy.compress(encodeSlices(slices));
      retries += await this.#sendWithRetries(body, signal);
      requests++;
      for (const slice of slices) samples += slice.end - slice.start;
    }
    return { requests, samples, retries };
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** @returns how many attempts failed before the engine accepted the request */
  async #sendWithRetries(body: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    const startedMs = this.#now();
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const outcome = await this.#attempt(body, signal);
      if (outcome === null) return attempt;
      const backoff = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** attempt);
      // "Equal jitter": half the backoff fixed, half random, so retries of many writers spread out.
      const delayMs = outcome.retryAfterMs ?? Math.round(backoff / 2 + this.#random() * (backoff / 2));
      const elapsedMs = this.#now() - startedMs;
      if (elapsedMs + delayMs > this.#maxElapsedMs) {
        throw new EngineUnavailable(
          `${this.url} did not accept the write after ${attempt + 1} attempts in ${Math.round(elapsedMs / 1000)} s ` +
            `(last: ${outcome.error.message})${outcome.retryAfterMs !== null ? `; it asks to retry in ${Math.round(outcome.retryAfterMs / 1000)} s` : ''}`,
          { status: outcome.status, engineMessage: outcome.engineMessage, attempts: attempt + 1, cause: outcome.error },
        );
      }
      this.#onRetry?.({ attempt: attempt + 1, delayMs, error: outcome.error });
      await this.#sleep(delayMs, signal);
    }
  }

  /**
   * One POST. Resolves null when accepted, or a retryable failure; throws what is not retryable.
   */
  async #attempt(
    body: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<{ error: Error; status: number | null; engineMessage: string; retryAfterMs: number | null } | null> {
    let answer;
    try {
      answer = await send(this.#agent, this.#url, { method: 'POST', headers: this.#headers, body, timeoutMs: this.#timeoutMs, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const cause = error instanceof Error ? error : new Error(String(error));
      const code = (cause as { code?: unknown }).code;
      const what = cause.name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : typeof code === 'string' ? code : cause.message;
      return { error: new Error(`${this.url}: ${what}`, { cause }), status: null, engineMessage: '', retryAfterMs: null };
    }
    const { status, text } = answer;
    if (status >= 200 && status < 300) return null;
    const engineMessage = truncateEngineMessage(text);
    if (isTooOldAnswer(status, text)) throw new SampleTooOld(this.url, status, engineMessage);
    if (status === 401 || status === 403) throw new EngineAuthFailed(this.url, status, engineMessage, this.#authHint);
    if (status === 429 || status >= 500) {
      return {
        error: new Error(`${this.url} answered HTTP ${status}${engineMessage ? `: ${engineMessage}` : ''}`),
        status,
        engineMessage,
        retryAfterMs: parseRetryAfter(answer.headers['retry-after'], this.#now()),
      };
    }
    // Redirects are not followed (they would carry the credentials elsewhere).
    const hint =
      status >= 300 && status < 400
        ? ': set the remote write URL to the address it redirects to'
        : status === 413
          ? ': lower maxSamplesPerRequest'
          : '';
    throw new EngineRejected(
      `${this.url} refused the write (HTTP ${status}${engineMessage ? `: ${engineMessage}` : ''})${hint}; it is not sent again`,
      status,
      engineMessage,
    );
  }
}
