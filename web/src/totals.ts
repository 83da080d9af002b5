/**
 * A datacenter's CPU and RAM totals from its host rows. Pure, so it is tested outside a browser.
 * RAM is vSphere's own host memory usage (memUsagePct) weighted by capacity, as the per-host bars
 * show it, not the sum of `mem.consumed` (which a simulator reports far above the capacity).
 */
import type { HostRow } from '../../src/shared/api.ts';

export interface UsageTotal {
  /** Used over the capacity of the hosts that report a usage, %; may exceed 100; null when none reports. */
  readonly pct: number | null;
  /** Used, in the capacity's unit (MHz, MB), over the hosts that report a usage. */
  readonly used: number;
  /** Capacity of every host given. */
  readonly capacity: number;
}

function total(hosts: readonly HostRow[], capacityOf: (h: HostRow) => number, usedOf: (h: HostRow) => number | null): UsageTotal {
  let used = 0;
  let reportingCapacity = 0;
  let capacity = 0;
  for (const host of hosts) {
    const cap = capacityOf(host);
    capacity += cap;
    const u = usedOf(host);
    if (u === null || !Number.isFinite(u)) continue;
    used += u;
    reportingCapacity += cap;
  }
  return { pct: reportingCapacity > 0 ? (used / reportingCapacity) * 100 : null, used, capacity };
}

/** CPU: Σ used MHz over Σ capacity (a host with only a percentage counts pct × capacity). */
export function cpuTotal(hosts: readonly HostRow[]): UsageTotal {
  return total(
    hosts,
    (h) => h.cpuCapacityMhz,
    (h) => h.cpuUsedMhz ?? (h.cpuUsagePct === null ? null : (h.cpuUsagePct / 100) * h.cpuCapacityMhz),
  );
}

/** RAM: Σ (memory usage % × capacity) over Σ capacity; used MB from the same percentages. */
export function memTotal(hosts: readonly HostRow[]): UsageTotal {
  return total(
    hosts,
    (h) => h.memoryCapacityMB,
    (h) => (h.memUsagePct === null ? null : (h.memUsagePct / 100) * h.memoryCapacityMB),
  );
}
