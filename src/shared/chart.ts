/**
 * Chart transforms for the UI: which charts an entity kind gets, and how a SeriesResponse
 * (columns of avg/min/max per metric) becomes uPlot's aligned data `[xs, ...ys]` plus the
 * description of each series and of the min–max bands. Pure; no uPlot import, so the shapes
 * are plain data that the browser component maps to uPlot options.
 */
import type { CompareResponse, SeriesResponse } from './api.ts';
import type { EntityKind } from './inventory.ts';
import { cpuReadyPctPerVcpu } from './metrics.ts';

/** One chart of the detail view: metrics that share a unit. */
export interface ChartGroup {
  /** Stable key, used in `data-testid="chart-<id>"`. */
  readonly id: string;
  readonly title: string;
  /** Unit of every metric in the group (metrics.ts MetricUnit or the API's unit string). */
  readonly unit: string;
  readonly metrics: readonly string[];
  /** Shows `cpuReadyMs` as % per vCPU when the VM's vCPU count is known. */
  readonly readyPerVcpu?: boolean;
}

const groupsByKind: Readonly<Record<EntityKind, readonly ChartGroup[]>> = {
  host: [
    { id: 'cpu-pct', title: 'CPU usage', unit: 'percent', metrics: ['cpuUsagePct'] },
    { id: 'cpu-mhz', title: 'CPU used', unit: 'MHz', metrics: ['cpuUsedMhz'] },
    { id: 'mem-pct', title: 'Memory usage', unit: 'percent', metrics: ['memUsagePct'] },
    { id: 'mem-mb', title: 'Memory consumed', unit: 'MB', metrics: ['memConsumedMB'] },
    { id: 'net-kbps', title: 'Network', unit: 'KBps', metrics: ['netRxKBps', 'netTxKBps'] },
  ],
  vm: [
    { id: 'cpu-pct', title: 'CPU usage', unit: 'percent', metrics: ['cpuUsagePct'] },
    { id: 'cpu-ready', title: 'CPU ready', unit: 'percent', metrics: ['cpuReadyMs'], readyPerVcpu: true },
    { id: 'cpu-mhz', title: 'CPU used', unit: 'MHz', metrics: ['cpuUsedMhz'] },
    { id: 'mem-pct', title: 'Memory usage', unit: 'percent', metrics: ['memUsagePct'] },
    { id: 'mem-balloon', title: 'Memory ballooned', unit: 'MB', metrics: ['memBalloonedMB'] },
    { id: 'mem-swap', title: 'Memory swap-in rate', unit: 'KBps', metrics: ['memSwapInKBps'] },
    { id: 'net-kbps', title: 'Network throughput', unit: 'KBps', metrics: ['netRxKBps', 'netTxKBps'] },
    { id: 'net-pps', title: 'Network packets', unit: 'pps', metrics: ['netRxPps', 'netTxPps'] },
    { id: 'net-drops', title: 'Network packets dropped', unit: 'pps', metrics: ['netRxDroppedPps', 'netTxDroppedPps'] },
    { id: 'disk-iops', title: 'Disk operations', unit: 'iops', metrics: ['diskReadIops', 'diskWriteIops'] },
    { id: 'disk-kbps', title: 'Disk throughput', unit: 'KBps', metrics: ['diskReadKBps', 'diskWriteKBps'] },
    {
      id: 'disk-latency',
      title: 'Disk latency',
      unit: 'ms',
      metrics: ['diskReadLatencyMs', 'diskWriteLatencyMs', 'diskMaxLatencyMs'],
    },
  ],
  datastore: [
    { id: 'space', title: 'Space', unit: 'GB', metrics: ['capacityGB', 'provisionedGB', 'usedGB', 'freeGB'] },
    { id: 'io', title: 'Throughput', unit: 'KBps', metrics: ['readKBps', 'writeKBps'] },
    { id: 'latency', title: 'Latency', unit: 'ms', metrics: ['readLatencyMs', 'writeLatencyMs'] },
  ],
  nic: [
    { id: 'net-kbps', title: 'Throughput', unit: 'KBps', metrics: ['netRxKBps', 'netTxKBps'] },
    { id: 'net-pps', title: 'Packets', unit: 'pps', metrics: ['netRxPps', 'netTxPps'] },
  ],
  datacenter: [],
  cluster: [],
};

/**
 * The charts to draw for an entity: the kind's usual groups restricted to the metrics the
 * entity has, then one chart per unit for any other metric, so that nothing the API offers is
 * left out.
 */
export function chartGroups(
  kind: EntityKind,
  available: readonly { readonly metric: string; readonly unit: string; readonly label: string }[],
): ChartGroup[] {
  const have = new Set(available.map((a) => a.metric));
  const groups: ChartGroup[] = [];
  const used = new Set<string>();
  for (const group of groupsByKind[kind]) {
    const metrics = group.metrics.filter((m) => have.has(m));
    if (metrics.length === 0) continue;
    metrics.forEach((m) => used.add(m));
    groups.push({ ...group, metrics });
  }
  const leftovers = new Map<string, string[]>();
  for (const a of available) {
    if (used.has(a.metric)) continue;
    leftovers.set(a.unit, [...(leftovers.get(a.unit) ?? []), a.metric]);
  }
  for (const [unit, metrics] of leftovers) {
    const labels = metrics.map((m) => available.find((a) => a.metric === m)?.label ?? m);
    groups.push({ id: `other-${unit}`, title: labels.join(', '), unit, metrics });
  }
  return groups;
}

/** What one uPlot series (data column after the x column) shows. */
export interface ChartSeriesSpec {
  readonly metric: string;
  readonly label: string;
  readonly unit: string;
  /** avg is the line; min and max bound the band around it. */
  readonly role: 'avg' | 'min' | 'max';
  /** Index of the metric in the chart, to pick its colour. */
  readonly colorIndex: number;
}

/** Aligned data: x values (unix seconds), then one column per series; null is a gap. */
export type AlignedColumns = [number[], ...(number | null)[][]];

export interface ChartModel {
  readonly data: AlignedColumns;
  /** series[i] describes data[i + 1] (uPlot series index i + 1). */
  readonly series: readonly ChartSeriesSpec[];
  /** uPlot band bounds as series indices (1-based, like uPlot's): fill from max down to min. */
  readonly bands: readonly { readonly upper: number; readonly lower: number }[];
  readonly unit: string;
  readonly stepSec: number;
}

/**
 * Inserts a null row wherever consecutive timestamps are more than 1.5 steps apart, so that a
 * line with `spanGaps: false` breaks there instead of joining across missing buckets.
 * Returns new arrays; the inputs are left as they are.
 */
export function withGaps(
  ts: readonly number[],
  stepSec: number,
  columns: readonly (readonly (number | null)[])[],
): { ts: number[]; columns: (number | null)[][] } {
  const outTs: number[] = [];
  const out: (number | null)[][] = columns.map(() => []);
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] as number;
    const previous = ts[i - 1];
    if (previous !== undefined && stepSec > 0 && t - previous > 1.5 * stepSec) {
      outTs.push(previous + stepSec);
      out.forEach((col) => col.push(null));
    }
    outTs.push(t);
    columns.forEach((col, c) => out[c]?.push(col[i] ?? null));
  }
  return { ts: outTs, columns: out };
}

/**
 * uPlot data for one chart group: for each of the group's metrics found in the response, its
 * avg, min and max columns (in that order), and a band from max to min.
 * @param numCpu the VM's vCPU count, used when the group shows CPU ready per vCPU
 * @returns null when the response holds none of the group's metrics
 */
export function toChartModel(response: SeriesResponse, group: ChartGroup, numCpu?: number): ChartModel | null {
  const found = group.metrics
    .map((metric) => response.series.find((s) => s.metric === metric))
    .filter((s): s is SeriesResponse['series'][number] => s !== undefined);
  if (found.length === 0) return null;

  const asReadyPct = group.readyPerVcpu === true && numCpu !== undefined && numCpu > 0;
  const convert = (v: number | null): number | null =>
    v === null ? null : asReadyPct ? cpuReadyPctPerVcpu(v, numCpu) : v;
  const unit = group.readyPerVcpu === true && !asReadyPct ? (found[0]?.unit ?? group.unit) : group.unit;

  const columns: (readonly (number | null)[])[] = [];
  const series: ChartSeriesSpec[] = [];
  const bands: { upper: number; lower: number }[] = [];
  found.forEach((s, colorIndex) => {
    const label = asReadyPct ? 'CPU ready per vCPU' : s.label;
    const first = columns.length + 1;
    columns.push(s.avg.map(convert), s.min.map(convert), s.max.map(convert));
    series.push(
      { metric: s.metric, label, unit, role: 'avg', colorIndex },
      { metric: s.metric, label: `${label} min`, unit, role: 'min', colorIndex },
      { metric: s.metric, label: `${label} max`, unit, role: 'max', colorIndex },
    );
    bands.push({ upper: first + 2, lower: first + 1 });
  });

  const gapped = withGaps(response.ts, response.stepSec, columns);
  return { data: [gapped.ts, ...gapped.columns], series, bands, unit, stepSec: response.stepSec };
}

/** Display units of a metric unit, smallest first: [factor, label]. */
const tickUnits: Readonly<Record<string, readonly (readonly [number, string])[]>> = {
  percent: [[1, '%']],
  MHz: [
    [1, 'MHz'],
    [1000, 'GHz'],
  ],
  MB: [
    [1, 'MB'],
    [1024, 'GB'],
    [1024 ** 2, 'TB'],
  ],
  GB: [
    [1, 'GB'],
    [1024, 'TB'],
    [1024 ** 2, 'PB'],
  ],
  KBps: [
    [1, 'KB/s'],
    [1024, 'MB/s'],
    [1024 ** 2, 'GB/s'],
  ],
  pps: [
    [1, 'pkt/s'],
    [1000, 'k pkt/s'],
  ],
  iops: [[1, 'IOPS']],
  ms: [[1, 'ms']],
};

function displayFactor(unit: string, largest: number): [number, string] {
  const ladder = tickUnits[unit] ?? [[1, unit] as const];
  let [factor, label] = ladder[0] ?? [1, unit];
  for (const [f, l] of ladder) if (largest >= f) [factor, label] = [f, l];
  return [factor, label];
}

/**
 * Candidate tick steps, in the metric's unit, that are round in the unit the axis shows
 * (1, 2, 2.5, 5 x 10^n of MB/s rather than of KB/s), for an axis whose largest value is `largest`.
 */
export function tickIncrements(unit: string, largest: number): number[] {
  const [factor] = displayFactor(unit, Math.abs(largest));
  const out: number[] = [];
  for (let exp = -4; exp <= 12; exp++) for (const m of [1, 2, 2.5, 5]) out.push(m * 10 ** exp * factor);
  return out;
}

function groupThousands(text: string): string {
  const [whole = '', fraction] = text.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}${fraction === undefined ? '' : `.${fraction}`}`;
}

/**
 * Labels of axis ticks: one display unit for the whole axis (picked from the largest tick), as
 * few decimals as keep the labels distinct. `[0, 512, 1024, 1536]` KBps ->
 * `['0 KB/s', '512 KB/s', '1 MB/s', '1.5 MB/s']` reads badly, so: `['0', '0.5 MB/s', '1.0 MB/s', '1.5 MB/s']`.
 */
export function tickLabels(ticks: readonly number[], unit: string): string[] {
  const [factor, label] = displayFactor(unit, Math.max(0, ...ticks.map((t) => Math.abs(t))));
  const scaled = ticks.map((t) => t / factor);
  const steps = scaled.slice(1).map((v, i) => Math.abs(v - (scaled[i] ?? 0))).filter((s) => s > 0);
  const step = steps.length > 0 ? Math.min(...steps) : Math.abs(scaled[0] ?? 1) || 1;
  let decimals = Math.min(6, Math.max(0, Math.ceil(-Math.log10(step))));
  const render = (d: number): string[] => scaled.map((v) => groupThousands((Object.is(Number(v.toFixed(d)), -0) ? 0 : v).toFixed(d)));
  let texts = render(decimals);
  while (new Set(texts).size < new Set(scaled).size && decimals < 6) {
    decimals += 1;
    texts = render(decimals);
  }
  // Zero needs no unit (and `0 k pkt/s` reads oddly).
  return texts.map((t, i) => (scaled[i] === 0 ? '0' : `${t} ${label}`.trim()));
}

/**
 * uPlot data for the Compare view: one line per entity (its avg, min and max columns, a band
 * from max to min), all on the response's one set of buckets. CPU ready (`cpuReadyMs`) is shown
 * as percent per vCPU when every VM's vCPU count is known, each with its own count, so that VMs
 * of different sizes compare. Null when the response holds no series.
 */
export function toCompareModel(response: CompareResponse): ChartModel | null {
  if (response.series.length === 0) return null;
  const perVcpu = response.metric === 'cpuReadyMs' && response.series.every((s) => s.numCpu !== null && s.numCpu > 0);
  const unit = perVcpu ? 'percent' : response.unit;
  const columns: (readonly (number | null)[])[] = [];
  const series: ChartSeriesSpec[] = [];
  const bands: { upper: number; lower: number }[] = [];
  response.series.forEach((s, colorIndex) => {
    const numCpu = s.numCpu ?? 1;
    const convert = (v: number | null): number | null => (v === null ? null : perVcpu ? cpuReadyPctPerVcpu(v, numCpu) : v);
    const first = columns.length + 1;
    columns.push(s.avg.map(convert), s.min.map(convert), s.max.map(convert));
    const label = s.entity.name;
    series.push(
      { metric: s.entity.id, label, unit, role: 'avg', colorIndex },
      { metric: s.entity.id, label: `${label} min`, unit, role: 'min', colorIndex },
      { metric: s.entity.id, label: `${label} max`, unit, role: 'max', colorIndex },
    );
    bands.push({ upper: first + 2, lower: first + 1 });
  });
  const gapped = withGaps(response.ts, response.stepSec, columns);
  return { data: [gapped.ts, ...gapped.columns], series, bands, unit, stepSec: response.stepSec };
}
