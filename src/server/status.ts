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
  /** What the session may read, per vCenter id (see StatusResponse counts). */
  readonly counts: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Import progress as a share, 0 to 100 (100 once done, whatever the counts). */
export function importPercent(progress: CollectionStatus['import']): number {
  if (progress.state === 'done') return 100;
  if (progress.entitiesTotal <= 0) return 0;
  return Math.min(100, Math.floor((progress.entitiesDone / progress.entitiesTotal) * 1000) / 10);
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
          counts: input.counts[vcenter.id] ?? {},
          import: { state: 'pending', percentDone: 0, problem: null },
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
        counts: input.counts[vcenter.id] ?? {},
        import: { state: status.import.state, percentDone: importPercent(status.import), problem: status.import.problem ?? null },
      };
    }),
  };
}
