/**
 * GET /api/status: how collection is going, per vCenter.
 */
import type { StatusResponse } from '../shared/api.ts';
import type { CollectionStatus } from '../store/store.ts';

/** The last cycle ended in an error (a failure newer than the last success). */
export function lastCycleFailed(status: CollectionStatus): boolean {
  if (status.lastError === null || status.lastEndSec === null) return false;
  return status.lastSuccessSec === null || status.lastEndSec > status.lastSuccessSec;
}

/** No successful cycle for 3 intervals, or the last cycle failed. */
export function isStale(status: CollectionStatus, nowSec: number, intervalSec: number): boolean {
  if (lastCycleFailed(status)) return true;
  return status.lastSuccessSec === null || nowSec - status.lastSuccessSec > 3 * intervalSec;
}

export interface StatusInput {
  readonly version: string;
  readonly intervalSec: number;
  readonly nowSec: number;
  /** The vCenters to report, in config order. */
  readonly vcenters: readonly { id: string; name: string }[];
  readonly statuses: readonly CollectionStatus[];
}

export function statusResponse(input: StatusInput): StatusResponse {
  const byId = new Map(input.statuses.map((status) => [status.vcenterId, status]));
  return {
    version: input.version,
    intervalSec: input.intervalSec,
    nowSec: input.nowSec,
    vcenters: input.vcenters.map((vcenter) => {
      const status = byId.get(vcenter.id);
      if (!status) {
        return {
          id: vcenter.id,
          name: vcenter.name,
          lastStart: null,
          lastEnd: null,
          lastDurationMs: null,
          lastSuccess: null,
          lastError: null,
          stale: true,
          counts: {},
          import: { state: 'pending', entitiesDone: 0, entitiesTotal: 0 },
        };
      }
      return {
        id: vcenter.id,
        name: vcenter.name,
        lastStart: status.lastStartSec,
        lastEnd: status.lastEndSec,
        lastDurationMs: status.lastDurationMs,
        lastSuccess: status.lastSuccessSec,
        lastError: status.lastError,
        stale: isStale(status, input.nowSec, input.intervalSec),
        counts: status.counts,
        import: status.import,
      };
    }),
  };
}
