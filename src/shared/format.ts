/**
 * Display formatting for the UI: numbers with their units, durations, ages, health classes
 * and CSV. Pure functions; `null` (not reported) is shown as an en dash.
 */
import type { FaultToleranceState, HealthStatus, HostConnectionState, PowerState, ToolsRunningStatus, ToolsVersionStatus } from './inventory.ts';

/** Health classes the UI colours consistently: ok green, warning amber, critical red, unknown grey. */
export type Health = 'ok' | 'warning' | 'critical' | 'unknown';

/** What a missing value looks like. */
export const NONE = '\u2013';

/**
 * A number with thousands separators (",") and at most `decimals` decimals, trailing zeros kept
 * so that columns line up (`1,234.5` with 1 decimal).
 */
export function formatNumber(value: number | null, decimals = 0): string {
  if (value === null || !Number.isFinite(value)) return NONE;
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole = '0', fraction] = fixed.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const negative = value < 0 && Number(fixed) !== 0;
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** Decimals that keep about 3 significant digits: 0.123, 1.23, 12.3, 123. */
function autoDecimals(value: number): number {
  const abs = Math.abs(value);
  if (abs === 0 || abs >= 100) return 0;
  if (abs >= 10) return 1;
  return 2;
}

function scaled(value: number | null, base: number, units: readonly string[]): string {
  if (value === null || !Number.isFinite(value)) return NONE;
  let v = value;
  let i = 0;
  while (Math.abs(v) >= base && i < units.length - 1) {
    v /= base;
    i += 1;
  }
  return `${formatNumber(v, Number.isInteger(v) ? 0 : autoDecimals(v))} ${units[i] ?? ''}`;
}

const byteUnits = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Bytes in binary units (1 KB = 1024 B): `1.50 KB`, `512 B`. */
export function formatBytes(bytes: number | null): string {
  return scaled(bytes, 1024, byteUnits);
}

/** Megabytes (1024^2 bytes), scaled up to GB/TB when large. */
export function formatMB(mb: number | null): string {
  return scaled(mb, 1024, byteUnits.slice(2));
}

/** Gigabytes (1024^3 bytes), scaled up to TB/PB when large. */
export function formatGB(gb: number | null): string {
  return scaled(gb, 1024, byteUnits.slice(3));
}

/** Gigabytes always in GB (tables whose column is "GB"): `1,234.5 GB`. */
export function formatGBFixed(gb: number | null): string {
  return gb === null || !Number.isFinite(gb) ? NONE : `${formatNumber(gb, gb >= 100 ? 0 : 1)} GB`;
}

/** Clock speed: `850 MHz`, `2.40 GHz`, and `56.00 THz` for the total of a large datacenter. */
export function formatMhz(mhz: number | null): string {
  if (mhz === null || !Number.isFinite(mhz)) return NONE;
  if (Math.abs(mhz) < 1000) return `${formatNumber(mhz, 0)} MHz`;
  if (Math.abs(mhz) < 1_000_000) return `${formatNumber(mhz / 1000, 2)} GHz`;
  return `${formatNumber(mhz / 1_000_000, 2)} THz`;
}

/** Throughput from KB/s (1 MB = 1024 KB): `512 KB/s`, `1.50 MB/s`. */
export function formatKBps(kbps: number | null): string {
  if (kbps === null || !Number.isFinite(kbps)) return NONE;
  return scaled(kbps, 1024, ['KB/s', 'MB/s', 'GB/s']);
}

/** A percentage: `42.0 %`. */
export function formatPercent(pct: number | null, decimals = 1): string {
  return pct === null || !Number.isFinite(pct) ? NONE : `${formatNumber(pct, decimals)} %`;
}

/** Milliseconds: `3.2 ms`, `120 ms`. */
export function formatMs(ms: number | null): string {
  return ms === null || !Number.isFinite(ms) ? NONE : `${formatNumber(ms, Math.abs(ms) >= 100 ? 0 : 1)} ms`;
}

/** Packets per second: `1,234 pkt/s`. */
export function formatPps(pps: number | null): string {
  return pps === null || !Number.isFinite(pps) ? NONE : `${formatNumber(pps, Math.abs(pps) >= 100 ? 0 : 1)} pkt/s`;
}

/** IO operations per second: `12.5 IOPS`. */
export function formatIops(iops: number | null): string {
  return iops === null || !Number.isFinite(iops) ? NONE : `${formatNumber(iops, Math.abs(iops) >= 100 ? 0 : 1)} IOPS`;
}

/** Link speed from Mb/s: `10 Gb/s`, `100 Mb/s`; null is a link that is down. */
export function formatLinkSpeed(mbps: number | null): string {
  if (mbps === null || !Number.isFinite(mbps)) return 'down';
  if (mbps >= 1000) return `${formatNumber(mbps / 1000, Number.isInteger(mbps / 1000) ? 0 : 1)} Gb/s`;
  return `${formatNumber(mbps, 0)} Mb/s`;
}

/** A value of a catalogue metric in its unit (a MetricUnit of src/shared/metrics.ts, or any unit string). */
export function formatMetric(value: number | null, unit: string): string {
  switch (unit) {
    case 'percent':
      return formatPercent(value);
    case 'MHz':
      return formatMhz(value);
    case 'MB':
      return formatMB(value);
    case 'GB':
      return formatGB(value);
    case 'KBps':
      return formatKBps(value);
    case 'pps':
      return formatPps(value);
    case 'iops':
      return formatIops(value);
    case 'ms':
      return formatMs(value);
    default:
      return value === null || !Number.isFinite(value) ? NONE : `${formatNumber(value, autoDecimals(value))} ${unit}`.trim();
  }
}

/** Short label of a unit for axes: `%`, `KB/s`. */
export function unitLabel(unit: string): string {
  const labels: Record<string, string> = { percent: '%', KBps: 'KB/s', pps: 'pkt/s', iops: 'IOPS' };
  return labels[unit] ?? unit;
}

/**
 * A duration in its two largest units: `3 d 4 h`, `4 h 12 min`, `12 min 5 s`, `45 s`.
 * @param sec seconds; negative values are shown as 0 s
 */
export function formatDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return NONE;
  let rest = Math.max(0, Math.floor(sec));
  const parts: string[] = [];
  for (const [size, name] of [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count} ${name}`);
    if (parts.length === 2) break;
  }
  // "3 d 0 h" reads worse than "3 d".
  const shown = parts.length === 2 && parts[1]?.startsWith('0 ') ? parts.slice(0, 1) : parts;
  return shown.length === 0 ? '0 s' : shown.join(' ');
}

/**
 * How long ago `thenSec` was at `nowSec`: `just now` (under 10 s), `45 s ago`, `2 min ago`,
 * `3 h ago`, `2 d ago`. A time in the future (clock skew) reads as `just now`.
 */
export function formatAge(thenSec: number | null, nowSec: number): string {
  if (thenSec === null || !Number.isFinite(thenSec)) return 'never';
  const age = Math.floor(nowSec - thenSec);
  if (age < 10) return 'just now';
  if (age < 60) return `${age} s ago`;
  if (age < 3600) return `${Math.floor(age / 60)} min ago`;
  if (age < 86400) return `${Math.floor(age / 3600)} h ago`;
  return `${Math.floor(age / 86400)} d ago`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local wall-clock time `HH:MM:SS` of a unix time in seconds. */
export function formatClock(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return NONE;
  const d = new Date(sec * 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Local date and time `YYYY-MM-DD HH:MM` of a unix time in seconds. */
export function formatDateTime(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return NONE;
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** Fill level of a datastore: under 75 % ok, 75 to 90 % warning, over 90 % critical. */
export function fillHealth(usedPct: number | null): Health {
  if (usedPct === null || !Number.isFinite(usedPct)) return 'unknown';
  if (usedPct > 90) return 'critical';
  if (usedPct >= 75) return 'warning';
  return 'ok';
}

/** Load bars (CPU, RAM): under 80 % ok, 80 to 90 % warning, over 90 % critical. */
export function loadHealth(pct: number | null): Health {
  if (pct === null || !Number.isFinite(pct)) return 'unknown';
  if (pct > 90) return 'critical';
  if (pct >= 80) return 'warning';
  return 'ok';
}

/** vCenter overallStatus colours. */
export function statusHealth(status: HealthStatus): Health {
  return ({ green: 'ok', yellow: 'warning', red: 'critical', gray: 'unknown' } as const)[status];
}

export function statusLabel(status: HealthStatus): string {
  return ({ green: 'Normal', yellow: 'Warning', red: 'Alert', gray: 'Unknown' } as const)[status];
}

export function powerLabel(state: PowerState): string {
  return ({ poweredOn: 'On', poweredOff: 'Off', suspended: 'Suspended', standBy: 'Standby', unknown: 'Unknown' } as const)[state];
}

export function powerHealth(state: PowerState): Health {
  return ({ poweredOn: 'ok', poweredOff: 'unknown', suspended: 'warning', standBy: 'unknown', unknown: 'unknown' } as const)[state];
}

export function connectionLabel(state: HostConnectionState): string {
  return ({ connected: 'Connected', disconnected: 'Disconnected', notResponding: 'Not responding' } as const)[state];
}

export function connectionHealth(state: HostConnectionState): Health {
  return ({ connected: 'ok', disconnected: 'unknown', notResponding: 'critical' } as const)[state];
}

export function toolsRunningLabel(status: ToolsRunningStatus | null): string {
  if (status === null) return 'Unknown';
  return ({ guestToolsRunning: 'Running', guestToolsNotRunning: 'Not running', guestToolsExecutingScripts: 'Running scripts' } as const)[
    status
  ];
}

/**
 * Tools running state of a VM: not running on a powered-on VM is a warning; on a powered-off VM
 * it is expected.
 */
export function toolsRunningHealth(status: ToolsRunningStatus | null, power: PowerState): Health {
  if (power !== 'poweredOn') return 'unknown';
  if (status === null) return 'unknown';
  return status === 'guestToolsNotRunning' ? 'warning' : 'ok';
}

const toolsVersion: Record<ToolsVersionStatus, { label: string; health: Health }> = {
  guestToolsNotInstalled: { label: 'Not installed', health: 'critical' },
  guestToolsNeedUpgrade: { label: 'Upgrade available', health: 'warning' },
  guestToolsCurrent: { label: 'Current', health: 'ok' },
  guestToolsUnmanaged: { label: 'Guest managed', health: 'ok' },
  guestToolsTooOld: { label: 'Too old', health: 'critical' },
  guestToolsSupportedOld: { label: 'Supported, old', health: 'warning' },
  guestToolsSupportedNew: { label: 'Supported, newer', health: 'ok' },
  guestToolsTooNew: { label: 'Too new', health: 'warning' },
  guestToolsBlacklisted: { label: 'Known problem', health: 'critical' },
};

export function toolsVersionLabel(status: ToolsVersionStatus | null): string {
  return status === null ? 'Unknown' : toolsVersion[status].label;
}

export function toolsVersionHealth(status: ToolsVersionStatus | null): Health {
  return status === null ? 'unknown' : toolsVersion[status].health;
}

/** Tools that need attention: not running on a powered-on VM, or a version that is not ok. */
export function toolsNeedAttention(running: ToolsRunningStatus | null, version: ToolsVersionStatus | null, power: PowerState): boolean {
  return toolsRunningHealth(running, power) === 'warning' || ['warning', 'critical'].includes(toolsVersionHealth(version));
}

const ft: Record<FaultToleranceState, { label: string; health: Health }> = {
  notConfigured: { label: 'Not configured', health: 'unknown' },
  disabled: { label: 'Disabled', health: 'unknown' },
  enabled: { label: 'Enabled', health: 'ok' },
  needSecondary: { label: 'Needs secondary', health: 'critical' },
  starting: { label: 'Starting', health: 'warning' },
  running: { label: 'Running', health: 'ok' },
};

export function faultToleranceLabel(state: FaultToleranceState): string {
  return ft[state].label;
}

export function faultToleranceHealth(state: FaultToleranceState): Health {
  return ft[state].health;
}

/**
 * CSV text (RFC 4180, CRLF line ends) of a header and rows. Cells with commas, quotes or line
 * breaks are quoted; text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first)
 * gets a leading apostrophe. Numbers are written as they are; null is an empty cell.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  const cell = (value: string | number | boolean | null): string => {
    if (value === null) return '';
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
