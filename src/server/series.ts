/**
 * The series route's logic: choose the tier and the bucket range from the query, check the
 * metric list against the entity kind, and label the store's columns with units.
 */
import type { SeriesResponse } from '../shared/api.ts';
import type { EntityKind } from '../shared/inventory.ts';
import { metricsByKind } from '../shared/metrics.ts';
import { periodSec, tierForPeriod, tierForSpan, tierStepSec, type Period, type Tier } from '../shared/tiers.ts';
import type { Store, StoredEntity } from '../store/store.ts';
import { badRequest } from './errors.ts';
import { entityName } from './views.ts';

/** Longest range a series request may cover: the year tier's retention (two years). */
export const maxSpanSec = 731 * 86400;

export interface SeriesParams {
  readonly period?: Period | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** Comma-separated metric keys. */
  readonly metrics?: string | undefined;
}

export interface SeriesPlan {
  readonly period: Period | 'custom';
  readonly tier: Tier;
  readonly stepSec: number;
  /** Start of the first bucket and of the last one, inclusive. */
  readonly fromBucketSec: number;
  readonly toBucketSec: number;
  readonly metrics: readonly string[];
}

const alignDown = (sec: number, stepSec: number): number => Math.floor(sec / stepSec) * stepSec;

/**
 * Validated plan of one series request.
 * Without from/to: the period (default day) ending now, in the period's tier.
 * With from/to (both, unix seconds, from < to, at most two years): the finest tier for the span.
 * Buckets whose start lies in [from, to) are returned.
 */
export function planSeries(kind: EntityKind, params: SeriesParams, nowSec: number): SeriesPlan {
  const defs = metricsByKind[kind];
  if (defs.length === 0) {
    throw badRequest(`A ${kind} has no history of its own; ask for its hosts, VMs or datastores.`);
  }
  const allowed = defs.map((def) => def.key);
  let metrics: readonly string[] = allowed;
  if (params.metrics !== undefined) {
    const asked = params.metrics.split(',').map((key) => key.trim());
    const unknown = asked.filter((key) => !allowed.includes(key));
    if (unknown.length > 0 || asked.length === 0) {
      const shown = unknown.slice(0, 3).map((key) => JSON.stringify(key.slice(0, 40))).join(', ');
      throw badRequest(`Unknown metric ${shown} for a ${kind}; allowed: ${allowed.join(', ')}.`);
    }
    metrics = [...new Set(asked)];
  }

  if ((params.from === undefined) !== (params.to === undefined)) {
    throw badRequest('Give both from and to (unix seconds), or neither.');
  }
  if (params.from !== undefined && params.to !== undefined) {
    if (params.from >= params.to) throw badRequest('from must be before to.');
    if (params.to - params.from > maxSpanSec) throw badRequest('The range may span at most two years (731 days).');
    const tier = tierForSpan(params.to - params.from);
    const stepSec = tierStepSec[tier];
    return {
      period: 'custom',
      tier,
      stepSec,
      fromBucketSec: alignDown(params.from, stepSec),
      toBucketSec: alignDown(params.to - 1, stepSec),
      metrics,
    };
  }
  const period = params.period ?? 'day';
  const tier = tierForPeriod[period];
  const stepSec = tierStepSec[tier];
  return {
    period,
    tier,
    stepSec,
    fromBucketSec: alignDown(nowSec - periodSec[period], stepSec),
    toBucketSec: alignDown(nowSec, stepSec),
    metrics,
  };
}

/**
 * A value as the API shows it: to a thousandth of its unit. Stored values are exact to a
 * hundredth (store/sqlite/bucket-codec.ts); averages get one more digit instead of seventeen.
 */
export function shownValue(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

/** The plan's series over buckets [fromSec, toSec] (inclusive starts), values as shown, one column per metric. */
export async function seriesColumns(
  store: Store,
  entity: StoredEntity,
  plan: SeriesPlan,
  fromSec: number,
  toSec: number,
): Promise<{ ts: readonly number[]; columns: readonly { avg: (number | null)[]; min: (number | null)[]; max: (number | null)[] }[] }> {
  if (toSec < fromSec) return { ts: [], columns: plan.metrics.map(() => ({ avg: [], min: [], max: [] })) };
  const data = await store.series({ entityId: entity.id, tier: plan.tier, fromSec, toSec, metrics: plan.metrics });
  const byMetric = new Map(data.series.map((series) => [series.metric, series]));
  const empty = data.ts.map(() => null);
  return {
    ts: data.ts,
    columns: plan.metrics.map((metric) => {
      const found = byMetric.get(metric);
      return {
        avg: found ? found.avg.map(shownValue) : [...empty],
        min: found ? found.min.map(shownValue) : [...empty],
        max: found ? found.max.map(shownValue) : [...empty],
      };
    }),
  };
}

/** Runs the plan against the store and labels each series with its unit. */
export async function seriesResponse(store: Store, entity: StoredEntity, plan: SeriesPlan): Promise<SeriesResponse> {
  const { ts, columns } = await seriesColumns(store, entity, plan, plan.fromBucketSec, plan.toBucketSec);
  const defs = new Map(metricsByKind[entity.kind].map((def) => [def.key, def]));
  return {
    entity: { id: entity.id, kind: entity.kind, name: entityName(entity) },
    period: plan.period,
    stepSec: plan.stepSec,
    from: plan.fromBucketSec,
    to: plan.toBucketSec + plan.stepSec,
    ts,
    series: plan.metrics.map((metric, i) => {
      const def = defs.get(metric);
      const column = columns[i] ?? { avg: [], min: [], max: [] };
      return { metric, unit: def?.unit ?? '', label: def?.label ?? metric, ...column };
    }),
  };
}
