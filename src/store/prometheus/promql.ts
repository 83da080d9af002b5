/**
 * Reading vscope's series back with PromQL: a small HTTP client for `/api/v1/query` and
 * `/api/v1/query_range` (POST form, answers checked with zod, results as columns), and the pure
 * query builders for one entity's chart with average, minimum and maximum per bucket.
 *
 * Bucket alignment. SQLite puts a sample whose interval ends at T in the bucket
 * `floor((T - intervalSec) / S) * S` (shared/tiers.ts bucketStart): bucket B holds the ends
 * T in [B + I, B + S + I). A PromQL range window is closed at both ends in Prometheus 2.x
 * (`[t - S, t]`) and open at the start in VictoriaMetrics and Prometheus 3 (`(t - S, t]`). Every
 * sample vscope writes is stamped on a whole second, so a window that ENDS HALF A SECOND before
 * a whole second, `[B + I - 0.5 s, B + S + I - 0.5 s]`, holds exactly the ends of bucket B under
 * both rules, with no sample on either edge. The query is evaluated at the step-aligned time
 * `t = B + 2S` and shifted back with `offset (S - I + 0.5 s)`: aligned evaluation times survive
 * engines and front ends that align `start` to the step (VictoriaMetrics does unless nocache=1,
 * Thanos' query frontend does by default), and the answer's timestamp maps back to B = t - 2S.
 * Rollup samples (rollups.ts) are stamped at their bucket's end, on the width; with I = 1 s
 * the window `(B, B + S]` holds the rollups of every finer bucket inside B, as SQLite's tiers do.
 *
 * Other traps handled here: range functions (`*_over_time`) never use the 5-minute lookback, so a
 * gap stays a gap (a bare selector evaluated at each step would repeat the last sample up to
 * 5 minutes); `*_over_time` drops `__name__`, so each raw metric is tagged with a `metric` label;
 * Prometheus refuses more than 11,000 points per series (a year at 5 minutes is 105,408) and
 * VictoriaMetrics 30,000: `queryRange` splits long ranges; VictoriaMetrics 1.79 hides the newest
 * 30 s (-search.latencyOffset) from instant queries and aligns query_range on the step unless
 * `nocache=1` is sent, which this client does by default (it also bypasses VictoriaMetrics'
 * response cache; vscope caches final buckets itself). For steps under a minute 1.79 still
 * rewrites points of the last 30 s whatever nocache says: vscope's charts step 300 s or more.
 */
import type { Agent } from 'undici';
import { z } from 'zod';
import { bucketStarts } from '../../shared/rollup.ts';
import type { Tier } from '../../shared/tiers.ts';
import { EngineAuthFailed, EngineRejected, EngineUnavailable, QueryFailed, truncateEngineMessage } from './errors.ts';
import { authHint, baseHeaders, createAgent, defaultTimeoutMs, displayUrl, parseEngineUrl, send, type EngineAnswer, type EngineHttpOptions } from './http.ts';
import { rollupLabelsForTier, rollupSeriesName, type RollupStat } from './rollups.ts';

/** Prometheus' limit is 11,000 points per series and query; stay under it. */
export const defaultMaxPointsPerQuery = 10_000;

export interface PromqlOptions extends EngineHttpOptions {
  /**
   * Send `nocache=1` with every query (default true): VictoriaMetrics then neither hides the
   * newest 30 s nor moves `start` onto the step nor answers from its cache. Other engines ignore it.
   */
  readonly noCache?: boolean;
  /** Most points per series in one query_range request; longer ranges are split. Default 10 000. */
  readonly maxPointsPerQuery?: number;
}

/** One series of a matrix, as columns. */
export interface MatrixSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Unix milliseconds, ascending. */
  readonly timestampsMs: readonly number[];
  readonly values: readonly number[];
}

export type InstantResult =
  | { readonly resultType: 'matrix'; readonly series: readonly MatrixSeries[] }
  | { readonly resultType: 'vector'; readonly series: readonly MatrixSeries[] }
  | { readonly resultType: 'scalar'; readonly timestampMs: number; readonly value: number };

const point = z.tuple([z.number(), z.string()]);
const labelSet = z.record(z.string(), z.string());
const successSchema = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: labelSet, values: z.array(point) })) }),
    z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: labelSet, value: point })) }),
    z.object({ resultType: z.literal('scalar'), result: point }),
  ]),
});
const errorSchema = z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() });

/** A sample value as the API writes it: a decimal string, or NaN, +Inf, -Inf. */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new RangeError(`not a sample value: ${JSON.stringify(text)}`);
  return value;
}

/** Seconds as the API reads them, exact to the ms (no float noise like 1700000000.1000001). */
function formatSeconds(sec: number): string {
  const ms = Math.round(sec * 1000);
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(3);
}

function toColumns(points: readonly (readonly [number, string])[]): { timestampsMs: number[]; values: number[] } {
  const timestampsMs = new Array<number>(points.length);
  const values = new Array<number>(points.length);
  points.forEach(([sec, text], i) => {
    timestampsMs[i] = Math.round(sec * 1000);
    values[i] = parseSampleValue(text);
  });
  return { timestampsMs, values };
}

function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export class PromqlClient {
  readonly url: string;
  readonly #base: URL;
  readonly #headers: Record<string, string>;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #noCache: boolean;
  readonly #maxPoints: number;
  readonly #authHint: string;

  /** @throws EngineRejected for a bad URL or header option */
  constructor(options: PromqlOptions) {
    this.#base = parseEngineUrl(options.url);
    if (!this.#base.pathname.endsWith('/')) this.#base.pathname += '/';
    this.url = displayUrl(this.#base);
    this.#headers = { ...baseHeaders(options), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    this.#timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.#agent = createAgent(this.#timeoutMs);
    this.#noCache = options.noCache ?? true;
    this.#maxPoints = options.maxPointsPerQuery ?? defaultMaxPointsPerQuery;
    if (!Number.isInteger(this.#maxPoints) || this.#maxPoints < 2) throw new RangeError('maxPointsPerQuery must be an integer of at least 2');
    this.#authHint = authHint(options, this.#base);
  }

  /**
   * An instant query at `timeSec` (`/api/v1/query`). A range selector (`name{...}[1h]`) answers
   * the raw samples of the range: the way to read samples back exactly.
   */
  async query(query: string, timeSec: number, signal?: AbortSignal): Promise<InstantResult> {
    const data = await this.#call('api/v1/query', { query, time: formatSeconds(timeSec) }, query, signal);
    if (data.resultType === 'scalar') {
      return { resultType: 'scalar', timestampMs: Math.round(data.result[0] * 1000), value: parseSampleValue(data.result[1]) };
    }
    if (data.resultType === 'vector') {
      return {
        resultType: 'vector',
        series: data.result.map(({ metric, value }) => ({ labels: metric, ...toColumns([value]) })),
      };
    }
    return { resultType: 'matrix', series: data.result.map(({ metric, values }) => ({ labels: metric, ...toColumns(values) })) };
  }

  /**
   * `/api/v1/query_range` from `startSec` to `endSec` (both evaluated) every `stepSec`, split into
   * requests of at most `maxPointsPerQuery` points and joined again, series by series.
   */
  async queryRange(query: string, range: { readonly startSec: number; readonly endSec: number; readonly stepSec: number }, signal?: AbortSignal): Promise<MatrixSeries[]> {
    const { startSec, endSec, stepSec } = range;
    if (!(stepSec > 0) || !(endSec >= startSec)) throw new RangeError(`invalid range: start ${startSec}, end ${endSec}, step ${stepSec}`);
    const joined = new Map<string, { labels: Readonly<Record<string, string>>; timestampsMs: number[]; values: number[] }>();
    const chunkSec = (this.#maxPoints - 1) * stepSec;
    for (let chunkStart = startSec; chunkStart <= endSec; chunkStart += chunkSec + stepSec) {
      const chunkEnd = Math.min(endSec, chunkStart + chunkSec);
      const data = await this.#call(
        'api/v1/query_range',
        { query, start: formatSeconds(chunkStart), end: formatSeconds(chunkEnd), step: formatSeconds(stepSec) },
        query,
        signal,
      );
      if (data.resultType !== 'matrix') throw new EngineRejected(`${this.url} answered a ${data.resultType} to query_range`, 200, '');
      for (const { metric, values } of data.result) {
        const key = labelKey(metric);
        const columns = toColumns(values);
        const known = joined.get(key);
        if (known) {
          known.timestampsMs.push(...columns.timestampsMs);
          known.values.push(...columns.values);
        } else {
          joined.set(key, { labels: metric, ...columns });
        }
      }
    }
    return [...joined.values()];
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #call(path: string, form: Record<string, string>, query: string, signal: AbortSignal | undefined): Promise<z.infer<typeof successSchema>['data']> {
    const url = new URL(path, this.#base);
    const body = new URLSearchParams(form);
    if (this.#noCache) body.set('nocache', '1');
    let answer: EngineAnswer;
    try {
      answer = await send(this.#agent, url, { method: 'POST', headers: this.#headers, body: body.toString(), timeoutMs: this.#timeoutMs, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const cause = error instanceof Error ? error : new Error(String(error));
      const code = (cause as { code?: unknown }).code;
      const what = cause.name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : typeof code === 'string' ? code : cause.message;
      throw new EngineUnavailable(`${this.url}: ${what}`, { status: null, engineMessage: '', attempts: 1, cause });
    }
    const { status, text } = answer;
    if (status === 401 || status === 403) throw new EngineAuthFailed(this.url, status, truncateEngineMessage(text), this.#authHint);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const failed = errorSchema.safeParse(json);
    if (failed.success) {
      const engineMessage = truncateEngineMessage(failed.data.error);
      throw new QueryFailed(
        `${this.url} could not run ${truncateEngineMessage(query)} (HTTP ${status}, ${failed.data.errorType}): ${engineMessage}`,
        status,
        failed.data.errorType,
        engineMessage,
      );
    }
    if (status === 429 || status >= 500) {
      throw new EngineUnavailable(`${this.url} answered HTTP ${status}`, { status, engineMessage: truncateEngineMessage(text), attempts: 1 });
    }
    const parsed = successSchema.safeParse(json);
    if (status !== 200 || !parsed.success) {
      throw new EngineRejected(
        `${this.url} did not answer like a Prometheus query API (HTTP ${status}${parsed.success ? '' : `, ${parsed.error.issues[0]?.message ?? 'unexpected body'}`}): check the PromQL URL (the API root, e.g. http://prometheus:9090)`,
        status,
        truncateEngineMessage(text),
      );
    }
    return parsed.data.data;
  }
}

/** A PromQL string literal (Go escapes, which JSON's are a subset of). */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}

/** Evaluation range of the buckets of a chart: see the alignment note at the top of this file. */
export interface BucketRange {
  /** Bucket starts, ascending: the `ts` column of the chart. */
  readonly bucketStartsSec: readonly number[];
  /** query_range arguments: evaluation at B + 2S for each bucket B. */
  readonly startSec: number;
  readonly endSec: number;
  readonly stepSec: number;
}

/**
 * The buckets of `stepSec` whose starts lie in [fromSec, toSec] (as SeriesQuery's), and the
 * query_range arguments that evaluate one point per bucket; null when the range holds no bucket.
 */
export function bucketRange(fromSec: number, toSec: number, stepSec: number): BucketRange | null {
  const starts = bucketStarts(fromSec, toSec, stepSec);
  const first = starts[0];
  const last = starts[starts.length - 1];
  if (first === undefined || last === undefined) return null;
  return { bucketStartsSec: starts, startSec: first + 2 * stepSec, endSec: last + 2 * stepSec, stepSec };
}

/**
 * `offset` that makes a window of `stepSec` evaluated at B + 2S end at B + S + I - 0.5 s.
 * @param intervalSec the samples' interval I (20 for raw realtime samples, 1 for rollups)
 */
export function bucketOffsetMs(stepSec: number, intervalSec: number): number {
  if (!(intervalSec > 0) || intervalSec > stepSec) throw new RangeError(`a sample interval of ${intervalSec} s does not fit buckets of ${stepSec} s`);
  return (stepSec - intervalSec) * 1000 + 500;
}

/** `fn(selector[S] offset O)` for one bucket per evaluation step. */
function overTime(fn: string, selector: string, stepSec: number, intervalSec: number): string {
  return `${fn}(${selector}[${stepSec}s] offset ${bucketOffsetMs(stepSec, intervalSec)}ms)`;
}

export type BucketStat = 'avg' | 'min' | 'max';

/**
 * One query per statistic over raw samples of several series of one entity, each result series
 * tagged `metric="<series name>"` (range functions drop `__name__`).
 * @param intervalSec the raw samples' interval (20 for realtime)
 */
export function rawBucketQueries(seriesNames: readonly string[], entityId: string, stepSec: number, intervalSec = 20): Readonly<Record<BucketStat, string>> {
  if (seriesNames.length === 0) throw new RangeError('no series to query');
  const build = (stat: BucketStat): string =>
    seriesNames
      .map((name) => {
        if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new RangeError(`invalid series name ${JSON.stringify(name)}`);
        const inner = overTime(`${stat}_over_time`, `${name}{entity_id=${promqlString(entityId)}}`, stepSec, intervalSec);
        return `label_replace(${inner}, "metric", ${promqlString(name)}, "", "")`;
      })
      .join(' or ');
  return { avg: build('avg'), min: build('min'), max: build('max') };
}

/**
 * One query per rollup statistic for every metric of one entity in a chart of `tier`, over the
 * realtime rollups and that tier's imported history (rollups.ts), summed per `metric` label.
 * Buckets of `stepSec` must be multiples of the rollups' widths (300 s and the tier's own).
 */
export function rollupBucketQueries(entityId: string, tier: Tier, stepSec: number): Readonly<Record<RollupStat, string>> {
  const rollups = rollupLabelsForTier(tier).join('|');
  const selector = (stat: RollupStat): string => `${rollupSeriesName[stat]}{entity_id=${promqlString(entityId)},rollup=~${promqlString(rollups)}}`;
  const query = (stat: RollupStat, over: string, by: string): string => `${by} by (metric) (${overTime(`${over}_over_time`, selector(stat), stepSec, 1)})`;
  return {
    sum: query('sum', 'sum', 'sum'),
    count: query('count', 'sum', 'sum'),
    min: query('min', 'min', 'min'),
    max: query('max', 'max', 'max'),
  };
}

/**
 * Lays query_range results out on the chart's buckets: `label` value -> one value per bucket of
 * `range` (null where the engine had nothing), each passed through `convert` (e.g. `fromEngine`).
 */
export function bucketColumns(
  results: readonly MatrixSeries[],
  range: BucketRange,
  label = 'metric',
  convert: (value: number, labelValue: string) => number = (value) => value,
): Map<string, (number | null)[]> {
  const first = range.bucketStartsSec[0] ?? 0;
  const columns = new Map<string, (number | null)[]>();
  for (const series of results) {
    const key = series.labels[label];
    if (key === undefined) continue;
    const column = columns.get(key) ?? new Array<number | null>(range.bucketStartsSec.length).fill(null);
    series.timestampsMs.forEach((ms, i) => {
      const bucket = ms / 1000 - 2 * range.stepSec;
      const index = (bucket - first) / range.stepSec;
      if (Number.isInteger(index) && index >= 0 && index < column.length) column[index] = convert(series.values[i] as number, key);
    });
    columns.set(key, column);
  }
  return columns;
}
