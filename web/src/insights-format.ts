/**
 * How the Capacity and Contention views say their figures: fill forecasts, N+1, headroom and
 * right-sizing hints in words, with the health colours of format.ts. Pure, tested beside.
 */
import type { CpuNPlusOne, DatastoreFillForecast, MemoryNPlusOne } from '../../src/shared/capacity.ts';
import { NONE, formatDuration, formatMB, formatMhz, formatNumber, formatPercent, loadHealth, type Health } from '../../src/shared/format.ts';
import type { BucketWindow } from '../../src/shared/insights.ts';
import type { VmHint } from '../../src/shared/vm-rightsizing.ts';

/** Days until full: within a month critical, within a quarter a warning. */
export function fillForecastHealth(forecast: DatastoreFillForecast): Health {
  switch (forecast.status) {
    case 'full':
      return 'critical';
    case 'insufficientData':
      return 'unknown';
    case 'notFilling':
      return 'ok';
    case 'filling':
      return forecast.daysUntilFull === null ? 'unknown' : forecast.daysUntilFull <= 30 ? 'critical' : forecast.daysUntilFull <= 90 ? 'warning' : 'ok';
  }
}

const days = (value: number | null): string => (value === null ? NONE : `${formatNumber(value, value < 10 ? 1 : 0)} d`);

/** `50 d`, with the range when it is not a point: `50 d (41 to 63 d)`; or the state in words. */
export function fillForecastText(forecast: DatastoreFillForecast): string {
  switch (forecast.status) {
    case 'full':
      return 'Full';
    case 'insufficientData':
      return 'Not enough data';
    case 'notFilling':
      return 'Not filling';
    case 'filling': {
      const low = forecast.daysUntilFullEarliest;
      const high = forecast.daysUntilFullLatest;
      if (low !== null && high !== null && Math.round(low) === Math.round(high) && Math.round(low) === Math.round(forecast.daysUntilFull ?? -1)) return days(forecast.daysUntilFull);
      return `${days(forecast.daysUntilFull)} (${days(low)} to ${high === null ? 'never' : days(high)})`;
    }
  }
}

/** Headroom colour: the used share's load colour (under 20 % left is a warning, under 10 % critical). */
export function headroomHealth(headroomPct: number | null): Health {
  return headroomPct === null ? 'unknown' : loadHealth(100 - headroomPct);
}

/** N+1 in words: `Holds, 24.00 GHz to spare` / `Fails: 20.00 GHz short`. */
export function nPlusOneText(nPlusOne: CpuNPlusOne | MemoryNPlusOne): { text: string; health: Health } {
  const margin = 'marginMhz' in nPlusOne ? nPlusOne.marginMhz : nPlusOne.marginMB;
  const format = (value: number): string => ('marginMhz' in nPlusOne ? formatMhz(value) : formatMB(value));
  if (nPlusOne.survives === null || margin === null) return { text: 'No data', health: 'unknown' };
  if (nPlusOne.survives) return { text: `Holds, ${format(margin)} to spare`, health: margin === 0 ? 'warning' : 'ok' };
  if (margin >= 0) return { text: 'Fails: a single host', health: 'critical' };
  return { text: `Fails: ${format(-margin)} short`, health: 'critical' };
}

export const hintLabels: Readonly<Record<VmHint['kind'], string>> = {
  idle: 'Idle',
  tooManyVcpus: 'Too many vCPUs',
  memoryNeverUsed: 'Memory never used',
};

export function hintHealth(hint: VmHint): Health {
  return hint.kind === 'tooManyVcpus' ? hint.severity : 'warning';
}

/** What a hint rests on, in one line. */
export function hintText(hint: VmHint): string {
  switch (hint.kind) {
    case 'idle':
      return `every bucket under: CPU ${formatPercent(hint.busiestCpuUsagePct)}, disk ${formatNumber(hint.busiestDiskKBps, 1)} KB/s, network ${formatNumber(hint.busiestNetKBps, 1)} KB/s at most`;
    case 'tooManyVcpus':
      return `${String(hint.numCpu)} → ${String(hint.suggestedVcpus)} vCPUs: CPU ready ${formatPercent(hint.meanReadyPctPerVcpu, 2)} per vCPU on average (peak ${formatPercent(hint.peakReadyPctPerVcpu, 2)}), busiest CPU ${formatPercent(hint.busiestCpuUsagePct)}`;
    case 'memoryNeverUsed':
      return `${formatMB(hint.memoryMB)} → ${formatMB(hint.suggestedMemoryMB)}: active memory peaked at ${formatPercent(hint.peakMemUsagePct)} (${formatMB(hint.peakActiveMB)})`;
  }
}

/** `2 h buckets, 14 Jan 00:00 to 15 Jan 00:00`-like statement of a window, with a formatter for times. */
export function windowText(window: BucketWindow, formatTime: (sec: number) => string): string {
  return `${formatDuration(window.stepSec)} buckets from ${formatTime(window.fromSec)} to ${formatTime(window.toSec)}`;
}
