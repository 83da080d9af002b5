/**
 * GET /api/compare: one metric of several entities of one kind over the same buckets, for the
 * Compare view (PRODUCT.md "Compare"). One request rather than one series request per entity:
 * the columns are aligned by construction (one plan, one range), the kind, the metric and every
 * id are checked in one place, and the URL alone reproduces the chart.
 */
import type { CompareResponse } from '../shared/api.ts';
import { metricsByKind } from '../shared/metrics.ts';
import type { Store, StoredEntity } from '../store/store.ts';
import { badRequest } from './errors.ts';
import { seriesColumns, type SeriesPlan } from './series.ts';
import { entityName } from './views.ts';

/** Entities one comparison may hold: more lines than this on one chart are no longer read. */
export const maxCompareIds = 20;

/**
 * The ids of a `ids` query value: comma-separated, duplicates dropped, order kept.
 * @throws AppError 400 for none or more than `maxCompareIds`
 */
export function compareIds(text: string): string[] {
  const ids = [...new Set(text.split(',').map((id) => id.trim()).filter((id) => id !== ''))];
  if (ids.length === 0) throw badRequest('Give the ids to compare: ids=a,b,c.');
  if (ids.length > maxCompareIds) throw badRequest(`Compare at most ${String(maxCompareIds)} entities at once (got ${String(ids.length)}).`);
  return ids;
}

/**
 * Checks that the entities (already checked visible) are of one kind with history.
 * @throws AppError 400 naming the kinds found
 */
export function compareKind(entities: readonly StoredEntity[]): CompareResponse['kind'] {
  const kinds = [...new Set(entities.map((entity) => entity.kind))];
  const [kind] = kinds;
  if (kinds.length !== 1 || kind === undefined) throw badRequest(`Compare entities of one kind; got ${kinds.join(', ')}.`);
  if (kind === 'datacenter' || kind === 'cluster') throw badRequest(`A ${kind} has no history of its own; compare its hosts, VMs or datastores.`);
  return kind;
}

/** The plan's one metric for each entity, in the order given. */
export async function compareResponse(store: Store, kind: CompareResponse['kind'], entities: readonly StoredEntity[], plan: SeriesPlan): Promise<CompareResponse> {
  const metric = plan.metrics[0] ?? '';
  const def = metricsByKind[kind].find((candidate) => candidate.key === metric);
  const read = await Promise.all(entities.map((entity) => seriesColumns(store, entity, plan, plan.fromBucketSec, plan.toBucketSec)));
  return {
    kind,
    metric,
    unit: def?.unit ?? '',
    label: def?.label ?? metric,
    period: plan.period,
    stepSec: plan.stepSec,
    from: plan.fromBucketSec,
    to: plan.toBucketSec + plan.stepSec,
    ts: read[0]?.ts ?? [],
    series: entities.map((entity, index) => {
      const column = read[index]?.columns[0] ?? { avg: [], min: [], max: [] };
      return {
        entity: { id: entity.id, kind: entity.kind, name: entityName(entity) },
        numCpu: entity.kind === 'vm' ? entity.numCpu : null,
        avg: column.avg,
        min: column.min,
        max: column.max,
      };
    }),
  };
}
