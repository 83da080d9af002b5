/**
 * 5-minute rollups written as series of their own, so that a year chart reads 105,000 rollup
 * samples per metric instead of 1.6 million raw 20-second ones, and still merges exactly into any
 * coarser bucket (as Thanos' downsampling keeps sum and count, never averages):
 *
 *   vscope_rollup_sum{metric="<series name>", rollup="5m", <entity labels>}    sum of value x weight
 *   vscope_rollup_count{...}  total weight, in 20-second samples (a realtime sample weighs 1)
 *   vscope_rollup_min{...}    vscope_rollup_max{...}
 *
 * Values are in the unit of the series named by `metric` (the engine unit, names.ts), so a
 * Grafana user can read them too. A coarse bucket is then avg = sum(sum) / sum(count),
 * min of mins, max of maxes: `sum_over_time`, `min_over_time`, `max_over_time` (promql.ts).
 * The metric is a label and not part of the name because `*_over_time` drops `__name__`: with
 * the name in a label, one query answers every metric of an entity.
 *
 * Each rollup sample is stamped at the END of its bucket, like every other sample vscope writes
 * (vCenter stamps a sample at the end of its interval). vCenter's historical samples are
 * rollups already (a 5-minute sample is one 5-minute bucket of weight 15) and go into the same
 * series with their own `rollup` label. A bucket is written once, when it is complete: Prometheus silently keeps the first of two out-of-order samples with one timestamp,
 * and VictoriaMetrics without deduplication keeps both, so a bucket must never be rewritten with
 * a new value.
 */
import { addSample, sampleWeight, type Rollup } from '../../shared/rollup.ts';
import { bucketStart, type Tier } from '../../shared/tiers.ts';
import { entityLabels, type EngineMetricDef, type EntityContext } from './names.ts';
import type { Label, Series } from './remote-write.ts';

/** Width of the rollups made from realtime samples, seconds. */
export const rollupStepSec = 300;

/**
 * Value of the `rollup` label: `5m` for the rollups of realtime samples (read by every chart),
 * `history_<tier>` for vCenter's historical samples imported into that tier (read only by that
 * tier's charts, as SQLite imports each historical interval into its own tier only).
 * A chart of tier T reads `rollup=~"5m|history_T"`.
 */
export type RollupLabel = '5m' | `history_${Tier}`;

export function rollupLabelsForTier(tier: Tier): readonly RollupLabel[] {
  return ['5m', `history_${tier}`];
}

export type RollupStat = 'sum' | 'count' | 'min' | 'max';
export const rollupStats: readonly RollupStat[] = ['sum', 'count', 'min', 'max'];
export const rollupSeriesName: Readonly<Record<RollupStat, string>> = {
  sum: 'vscope_rollup_sum',
  count: 'vscope_rollup_count',
  min: 'vscope_rollup_min',
  max: 'vscope_rollup_max',
};

/** Buckets of one metric, as columns (bucket starts ascending). */
export interface RollupColumns {
  /** Bucket width, seconds. */
  readonly widthSec: number;
  readonly startSec: readonly number[];
  readonly rollups: readonly Rollup[];
}

/**
 * Start of the first 5-minute bucket that realtime samples after `newestEndSec` (the newest
 * sample end collected so far; samples arrive in time order) may still reach: every bucket before
 * it is complete, and the caller keeps (or fetches again) the samples from here on.
 */
export function openBucketStart(newestEndSec: number, intervalSec: number): number {
  return bucketStart(newestEndSec, intervalSec, rollupStepSec);
}

/**
 * Rollups of samples into buckets of `widthSec`, bucketed like SQLite's tiers
 * (`bucketStart(sampleEnd, intervalSec, widthSec)`), with each sample weighted by
 * `sampleWeight(intervalSec)` (a realtime sample 1, a 5-minute one 15). Null or non-finite values
 * are skipped (no data). Values must already be in the engine unit (names.ts `toEngine`).
 * @param openFromSec buckets starting at or after it are left out (still open); default none
 */
export function bucketRollups(
  timestampsSec: readonly number[],
  values: readonly (number | null)[],
  intervalSec: number,
  widthSec: number,
  openFromSec = Number.POSITIVE_INFINITY,
): RollupColumns {
  const weight = sampleWeight(intervalSec);
  const found = new Map<number, Rollup>();
  for (let i = 0; i < timestampsSec.length; i++) {
    const start = bucketStart(timestampsSec[i] as number, intervalSec, widthSec);
    if (start >= openFromSec) continue;
    const next = addSample(found.get(start) ?? null, values[i] ?? null, weight);
    if (next !== null) found.set(start, next);
  }
  const startSec = [...found.keys()].sort((a, b) => a - b);
  return { widthSec, startSec, rollups: startSec.map((start) => found.get(start) as Rollup) };
}

/**
 * The four rollup series of one metric of one entity, ready for RemoteWriteClient.write. Each
 * bucket is stamped at its end (start + width), in ms: aligned on its width whatever the
 * original sample times, so that engine buckets and SQLite buckets agree (promql.ts).
 */
export function rollupSeries(metric: EngineMetricDef, context: EntityContext, columns: RollupColumns, rollup: RollupLabel): Series[] {
  return rollupSeriesOf(metric, entityLabels(metric.kind, context), columns, rollup);
}

/** The same, from the entity's labels already built (entityLabels): a writer reuses them for every metric. */
export function rollupSeriesOf(metric: EngineMetricDef, entity: readonly Label[], columns: RollupColumns, rollup: RollupLabel): Series[] {
  const labels = [...entity, { name: 'metric', value: metric.name }, { name: 'rollup', value: rollup }];
  const timestampsMs = columns.startSec.map((start) => (start + columns.widthSec) * 1000);
  return rollupStats.map((stat) => ({
    labels: [{ name: '__name__', value: rollupSeriesName[stat] }, ...labels],
    timestampsMs,
    values: columns.rollups.map((rollup) => rollup[stat]),
  }));
}
