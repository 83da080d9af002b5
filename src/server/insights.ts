/**
 * The Capacity and Contention answers of a datacenter (PRODUCT.md "Capacity", "Contention"),
 * built with the math of src/shared (capacity.ts, vm-rightsizing.ts, contention.ts) on what
 * insights-data.ts reads, and cached per (datacenter, period, query, scope, store data version,
 * minute).
 *
 * Who sees what (README "Who sees what": an entity's own figures stay whole; relations to what
 * the person may not see are left out):
 *   - hosts, datastores and VMs: those the person may read, with their own figures whole (a
 *     host's vCPU:core ratio counts every VM on it);
 *   - clusters: only those the person may read. A cluster's headroom and N+1 are the cluster's
 *     own figures, built from all its hosts, so they stay whole; but a cluster the person only
 *     sees by name (view-only, as the ancestor of a VM they read) shows nothing of its own, as
 *     in vCenter, where its summary needs read permission on it. Host ids inside a cluster's
 *     figures (its hosts, the biggest host of N+1) are left out, or null, where the person may
 *     not read that host;
 *   - contention: VMs are ranked among those the person may read only (rank 1 is the worst they
 *     may see, and a hidden VM never shows through its rank), and the hosts and datastores they
 *     share are those the person may read.
 * Analyses of VMs are shared between people (they depend on the VM alone); only the answers
 * are per scope.
 */
import type { Logger } from 'pino';
import type {
  CapacityResponse,
  ClusterCapacityRow,
  ContentionResponse,
  ContentionRowView,
  DatastoreCapacityRow,
  HostCapacityRow,
  SharedPlaceView,
  VmHintRow,
} from '../shared/api.ts';
import type { BucketSeries } from '../shared/bucket-series.ts';
import {
  clusterCapacity,
  datastoreProvisioning,
  fillTrendWindowDays,
  forecastDatastoreFill,
  hostCapacity,
  type HostCapacityInput,
} from '../shared/capacity.ts';
import { rankMeasured, type ContentionMeasure, type ContentionRankBy } from '../shared/contention.ts';
import { completeWindow, contentionMetrics, currentWindow, roundFigures, type AnalysisProgress, type BucketWindow, type ContentionMetric, type InsightsPeriod } from '../shared/insights.ts';
import {
  idleCpuUsagePct,
  idleDiskKBps,
  idleNetKBps,
  lowCpuUsagePct,
  minCoveragePct,
  targetCpuUsagePct,
  targetMemoryUsagePct,
  unusedMemoryPct,
} from '../shared/vm-rightsizing.ts';
import type { Visibility } from '../shared/visibility.ts';
import { tierStepSec } from '../shared/tiers.ts';
import { maxRealtimeIntervalSec, type Awaitable, type SeriesData, type Store, type StoredDatacenter, type StoredHost, type StoredVm } from '../store/store.ts';
import { FinalBucketCache, VmAnalysisCache, type AnalysesAnswer, type InsightsDataOptions, type VmAnalyses } from './insights-data.ts';
import { minGzipBytes, type PreparedBody } from './prepared-body.ts';
import { DatacenterData } from './views.ts';
import { gzipSync } from 'node:zlib';

const daySec = 86400;

/** The query of a contention answer. */
export interface ContentionQuery {
  readonly period: InsightsPeriod;
  readonly metric: ContentionMetric;
  readonly rankBy: ContentionRankBy;
  /** Rows returned. */
  readonly limit: number;
}

/** What the answers need to know of the person asking. */
export interface Asker {
  readonly scopeId: string;
  readonly visibility: Visibility;
}

function bucketSeriesOf(data: SeriesData, metric: string): BucketSeries {
  const found = data.series.find((series) => series.metric === metric);
  return { stepSec: data.stepSec, ts: data.ts, avg: found?.avg ?? data.ts.map(() => null), max: found?.max ?? data.ts.map(() => null) };
}

/** The datacenter's live VMs that run workloads (templates use no resources and have no statistics). */
function workloadVms(data: DatacenterData): StoredVm[] {
  return data.vms.filter((vm) => !vm.isTemplate);
}

/** Powered-on VMs per host: what competes for the host's CPU and memory. */
function poweredOnByHost(vms: readonly StoredVm[]): Map<string, StoredVm[]> {
  const byHost = new Map<string, StoredVm[]>();
  for (const vm of vms) {
    if (vm.powerState !== 'poweredOn' || vm.hostId === null) continue;
    let list = byHost.get(vm.hostId);
    if (list === undefined) byHost.set(vm.hostId, (list = []));
    list.push(vm);
  }
  return byHost;
}

/** A host carries its cluster's VMs when connected, powered on and not in maintenance mode. */
const carriesVms = (host: StoredHost): boolean => host.connectionState === 'connected' && host.powerState === 'poweredOn' && !host.inMaintenanceMode;

function jsonBody(value: unknown): PreparedBody {
  const json = Buffer.from(JSON.stringify(value));
  let zipped: Buffer | null | undefined;
  return { json, gzip: () => (zipped ??= json.length < minGzipBytes ? null : gzipSync(json, { level: 1 })) };
}

export interface InsightsServiceOptions extends InsightsDataOptions {
  readonly log?: Logger;
  /**
   * Moves when the inventory may have changed (the collection cycles' end times, as the list
   * cache uses them): the datacenter's entities are loaded again then, not after every write
   * of samples. Default: the store's data version.
   */
  readonly inventoryMark?: () => Awaitable<string>;
  /** Answers kept at most (least recently used go first). Default 256. */
  readonly maxAnswers?: number;
}

export class InsightsService {
  readonly vmAnalyses: VmAnalysisCache;
  private readonly finals: FinalBucketCache;
  private readonly answers = new Map<string, PreparedBody>();
  /** Datacenter id -> its entities as last loaded, with the inventory mark they were loaded at. */
  private readonly inventories = new Map<string, { mark: string; data: Promise<DatacenterData> }>();
  /** How answers were made, for tests and the benchmark. */
  readonly stats = { answered: 0, built: 0 };

  constructor(
    private readonly store: Store,
    private readonly options: InsightsServiceOptions = {},
  ) {
    this.vmAnalyses = new VmAnalysisCache(store, options);
    this.finals = new FinalBucketCache(store);
  }

  /** GET /api/datacenters/:id/capacity as a JSON body. */
  capacity(datacenter: StoredDatacenter, period: InsightsPeriod, asker: Asker, nowSec: number): Promise<PreparedBody> {
    return this.cached(`capacity ${datacenter.id} ${period}`, asker, nowSec, async (data, answerNowSec) => {
      const built = await this.capacityResponse(data, period, asker.visibility, answerNowSec);
      return { body: built.response, complete: built.complete };
    }, datacenter);
  }

  /** GET /api/datacenters/:id/contention as a JSON body. */
  contention(datacenter: StoredDatacenter, query: ContentionQuery, asker: Asker, nowSec: number): Promise<PreparedBody> {
    const key = `contention ${datacenter.id} ${query.period} ${query.metric} ${query.rankBy} ${String(query.limit)}`;
    return this.cached(key, asker, nowSec, async (data, answerNowSec) => {
      const built = await this.contentionResponse(data, query, asker.visibility, answerNowSec);
      return { body: built.response, complete: built.complete };
    }, datacenter);
  }

  /**
   * An answer from the cache, or built and kept. Answers are as of the minute (`nowSec` cut
   * to it), so that one stays good for the rest of that minute while the data does not change;
   * one built from VM analyses of an older window (a refresh running) is not kept.
   */
  private async cached(
    what: string,
    asker: Asker,
    nowSec: number,
    build: (data: DatacenterData, answerNowSec: number) => Promise<{ body: unknown; complete: boolean }>,
    datacenter: StoredDatacenter,
  ): Promise<PreparedBody> {
    this.stats.answered++;
    const answerNowSec = Math.floor(nowSec / 60) * 60;
    const version = await this.store.dataVersion?.();
    const key = version === undefined ? null : `${what} ${asker.scopeId} ${String(version)} ${String(answerNowSec)}`;
    const hit = key === null ? undefined : this.answers.get(key);
    if (hit !== undefined && key !== null) {
      this.answers.delete(key);
      this.answers.set(key, hit);
      return hit;
    }
    this.stats.built++;
    const mark = this.options.inventoryMark === undefined ? String(version) : await this.options.inventoryMark();
    const data = await this.datacenterData(datacenter, version === undefined ? undefined : mark);
    const built = await build(data, answerNowSec);
    const body = jsonBody(roundFigures(built.body));
    if (key !== null && built.complete) {
      this.answers.set(key, body);
      while (this.answers.size > (this.options.maxAnswers ?? 256)) {
        const oldest = this.answers.keys().next();
        if (oldest.done === true) break;
        this.answers.delete(oldest.value);
      }
    }
    return body;
  }

  /** The datacenter's live entities, loaded once per inventory mark (5,000 VMs take about 100 ms to parse). */
  private datacenterData(datacenter: StoredDatacenter, mark: string | undefined): Promise<DatacenterData> {
    const kept = this.inventories.get(datacenter.id);
    if (mark !== undefined && kept?.mark === mark) return kept.data;
    const data = DatacenterData.load(this.store, datacenter);
    if (mark !== undefined) this.inventories.set(datacenter.id, { mark, data });
    data.catch(() => {
      if (this.inventories.get(datacenter.id)?.data === data) this.inventories.delete(datacenter.id);
    });
    return data;
  }

  private analysesOf(data: DatacenterData, period: InsightsPeriod, nowSec: number): Promise<AnalysesAnswer> {
    return this.vmAnalyses.analyses(data.datacenter.vcenterId, data.datacenter.id, period, workloadVms(data), nowSec);
  }

  private async capacityResponse(data: DatacenterData, period: InsightsPeriod, visibility: Visibility, nowSec: number): Promise<{ response: CapacityResponse; complete: boolean }> {
    const window = currentWindow(period, nowSec);
    const [datastores, hostsAndClusters, vms] = await Promise.all([
      this.datastoreRows(data, visibility, nowSec),
      this.hostAndClusterRows(data, window, visibility),
      this.vmHintRows(data, period, visibility, nowSec),
    ]);
    const fillStepSec = tierStepSec['2h'];
    return {
      complete: vms.complete,
      response: {
        datacenter: { id: data.datacenter.id, kind: 'datacenter', name: data.datacenter.name },
        period,
        nowSec,
        datastores: {
          window: { tier: '2h', stepSec: fillStepSec, fromSec: Math.floor((nowSec - fillTrendWindowDays * daySec) / fillStepSec) * fillStepSec, toSec: nowSec },
          rows: datastores,
        },
        clusters: { window, rows: hostsAndClusters.clusters },
        hosts: { window, rows: hostsAndClusters.hosts },
        vms: {
          window: vms.window,
          analysed: vms.analysed,
          withoutEnoughData: vms.withoutEnoughData,
          progress: vms.progress,
          rows: vms.rows,
          rules: {
            minCoveragePct,
            idleCpuUsagePct,
            idleDiskKBps,
            idleNetKBps,
            readyWarningPctPerVcpu: contentionMetrics.cpuReady.threshold,
            lowCpuUsagePct,
            targetCpuUsagePct,
            unusedMemoryPct,
            targetMemoryUsagePct,
          },
        },
      },
    };
  }

  /** Fill forecasts over the last 30 days of 2-hour buckets, and provisioning, of the datastores the person may read. */
  private async datastoreRows(data: DatacenterData, visibility: Visibility, nowSec: number): Promise<DatastoreCapacityRow[]> {
    const stepSec = tierStepSec['2h'];
    const fromSec = Math.floor((nowSec - fillTrendWindowDays * daySec) / stepSec) * stepSec;
    const toSec = Math.floor(nowSec / stepSec) * stepSec + stepSec;
    const rows: DatastoreCapacityRow[] = [];
    for (const ds of data.datastores) {
      if (!visibility.canRead(ds.id)) continue;
      const series = await this.finals.series(ds.id, '2h', ['usedGB'], fromSec, toSec);
      const usedGB = Math.max(0, ds.capacityGB - ds.freeGB);
      rows.push({
        id: ds.id,
        name: ds.name,
        type: ds.type,
        capacityGB: ds.capacityGB,
        usedGB,
        usedPct: ds.capacityGB > 0 ? (usedGB / ds.capacityGB) * 100 : 0,
        forecast: forecastDatastoreFill({ capacityGB: ds.capacityGB, usedGB: bucketSeriesOf(series, 'usedGB') }, nowSec),
        provisioning: datastoreProvisioning(ds.capacityGB, ds.provisionedGB, ds.lastSeenSec),
      });
    }
    return rows;
  }

  private async hostAndClusterRows(data: DatacenterData, window: BucketWindow, visibility: Visibility): Promise<{ hosts: HostCapacityRow[]; clusters: ClusterCapacityRow[] }> {
    const byHost = poweredOnByHost(workloadVms(data));
    const readableClusters = data.clusters.filter((cluster) => visibility.canRead(cluster.id));
    const clusterIds = new Set(readableClusters.map((cluster) => cluster.id));
    const wanted = data.hosts.filter((host) => visibility.canRead(host.id) || (host.clusterId !== null && clusterIds.has(host.clusterId)));
    const inputs = new Map<string, HostCapacityInput>();
    for (const host of wanted) {
      const series = await this.finals.series(host.id, window.tier, ['cpuUsedMhz', 'memConsumedMB'], window.fromSec, window.toSec);
      const vms = byHost.get(host.id) ?? [];
      inputs.set(host.id, {
        hostId: host.id,
        cpuCapacityMhz: host.cpuCapacityMhz,
        memoryCapacityMB: host.memoryCapacityMB,
        cpuCores: host.cpuCores,
        vcpus: vms.reduce((total, vm) => total + vm.numCpu, 0),
        vms: vms.length,
        cpuUsedMhz: bucketSeriesOf(series, 'cpuUsedMhz'),
        memConsumedMB: bucketSeriesOf(series, 'memConsumedMB'),
      });
    }
    const hosts: HostCapacityRow[] = [];
    for (const host of data.hosts) {
      const input = inputs.get(host.id);
      if (input === undefined || !visibility.canRead(host.id)) continue;
      const cluster = host.clusterId === null ? undefined : data.clusterById.get(host.clusterId);
      const shownCluster = cluster !== undefined && visibility.canSee(cluster.id) ? cluster : undefined;
      hosts.push({
        ...hostCapacity(input, window),
        name: host.name,
        clusterId: shownCluster?.id ?? null,
        clusterName: shownCluster?.name ?? null,
        connectionState: host.connectionState,
        inMaintenanceMode: host.inMaintenanceMode,
      });
    }
    const readable = (id: string | null): string | null => (id !== null && visibility.canRead(id) ? id : null);
    const clusters = readableClusters.map((cluster): ClusterCapacityRow => {
      const members = data.hosts.filter((host) => host.clusterId === cluster.id);
      const carrying = members.filter(carriesVms).map((host) => inputs.get(host.id)).filter((input) => input !== undefined);
      const figures = clusterCapacity(cluster.id, carrying, window);
      return {
        ...figures,
        name: cluster.name,
        hostIds: figures.hostIds.filter((id) => visibility.canRead(id)),
        hostsWithoutData: figures.hostsWithoutData.filter((id) => visibility.canRead(id)),
        hostsLeftOut: members.filter((host) => !carriesVms(host) && visibility.canRead(host.id)).map((host) => host.id),
        nPlusOne: {
          cpu: { ...figures.nPlusOne.cpu, biggestHostId: readable(figures.nPlusOne.cpu.biggestHostId) },
          memory: { ...figures.nPlusOne.memory, biggestHostId: readable(figures.nPlusOne.memory.biggestHostId) },
        },
      };
    });
    return { hosts, clusters };
  }

  private async vmHintRows(
    data: DatacenterData,
    period: InsightsPeriod,
    visibility: Visibility,
    nowSec: number,
  ): Promise<{ window: BucketWindow; analysed: number; withoutEnoughData: number; rows: VmHintRow[]; complete: boolean; progress: AnalysisProgress | null }> {
    const { analyses, complete, progress } = await this.analysesOf(data, period, nowSec);
    if (analyses === null) return { window: completeWindow(period, nowSec, maxRealtimeIntervalSec), analysed: 0, withoutEnoughData: 0, rows: [], complete, progress };
    const rows: VmHintRow[] = [];
    let analysed = 0;
    let withoutEnoughData = 0;
    for (const vm of workloadVms(data)) {
      const analysis = analyses.byVm.get(vm.id);
      if (!visibility.canRead(vm.id) || analysis === undefined) continue;
      analysed++;
      if (analysis.coveragePct < minCoveragePct) withoutEnoughData++;
      if (analysis.rightSizing.hints.length === 0) continue;
      const host = vm.hostId === null ? undefined : data.hostById.get(vm.hostId);
      const cluster = vm.clusterId === null ? undefined : data.clusterById.get(vm.clusterId);
      const shownHost = host !== undefined && visibility.canRead(host.id) ? host : undefined;
      const shownCluster = cluster !== undefined && visibility.canSee(cluster.id) ? cluster : undefined;
      rows.push({
        id: vm.id,
        name: vm.name,
        hostId: shownHost?.id ?? null,
        hostName: shownHost?.name ?? null,
        clusterId: shownCluster?.id ?? null,
        clusterName: shownCluster?.name ?? null,
        powerState: vm.powerState,
        numCpu: vm.numCpu,
        memoryMB: vm.memoryMB,
        coveragePct: analysis.coveragePct,
        hints: analysis.rightSizing.hints,
      });
    }
    rows.sort((a, b) => b.hints.length - a.hints.length || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return { window: analyses.window, analysed, withoutEnoughData, rows, complete, progress };
  }

  private async contentionResponse(data: DatacenterData, query: ContentionQuery, visibility: Visibility, nowSec: number): Promise<{ response: ContentionResponse; complete: boolean }> {
    const def = contentionMetrics[query.metric];
    const { analyses: found, complete, progress } = await this.analysesOf(data, query.period, nowSec);
    const analyses: VmAnalyses = found ?? { window: completeWindow(query.period, nowSec, maxRealtimeIntervalSec), byVm: new Map() };
    const readable = (id: string): boolean => visibility.canRead(id);
    const measured: ContentionMeasure[] = [];
    let visible = 0;
    let quiet = 0;
    let withoutData = 0;
    for (const vm of workloadVms(data)) {
      const analysis = analyses.byVm.get(vm.id);
      if (!readable(vm.id) || analysis === undefined) continue;
      visible++;
      const row = analysis.contention[query.metric];
      if (row === null) withoutData++;
      else if (!(row.peak > 0)) quiet++;
      // Where the VM is now, as far as the person may see it.
      else measured.push({ ...row, hostId: vm.hostId !== null && readable(vm.hostId) ? vm.hostId : null, datastoreIds: vm.datastoreIds.filter(readable) });
    }
    const ranking = rankMeasured(measured, [], analyses.window, analyses.window.stepSec, {
      metric: query.metric,
      unit: def.unit,
      threshold: def.threshold,
      rankBy: query.rankBy,
      limit: query.limit,
    });
    const vmById = new Map(data.vms.map((vm) => [vm.id, vm]));
    const nameOf = (id: string): string => vmById.get(id)?.name ?? data.hostById.get(id)?.name ?? data.datastoreById.get(id)?.name ?? id;
    const rows = ranking.rows.map(
      (row): ContentionRowView => ({
        ...row,
        name: nameOf(row.vmId),
        hostName: row.hostId === null ? null : nameOf(row.hostId),
        datastores: row.datastoreIds.map((id) => ({ id, name: nameOf(id) })),
      }),
    );
    const places = (list: typeof ranking.shared.hosts): SharedPlaceView[] => list.map((place) => ({ ...place, name: nameOf(place.id) }));
    return {
      complete,
      response: {
        datacenter: { id: data.datacenter.id, kind: 'datacenter', name: data.datacenter.name },
        period: query.period,
        nowSec,
        metric: query.metric,
        label: def.label,
        unit: def.unit,
        threshold: def.threshold,
        thresholdNote: def.thresholdNote,
        rankBy: query.rankBy,
        window: analyses.window,
        vmsRanked: ranking.vmsRanked,
        vmsQuiet: quiet,
        vmsWithoutData: withoutData,
        progress,
        reason: rows.length > 0 ? null : found === null ? pendingReason(progress) : emptyReason(def.label, def.counters, visible, quiet),
        rows,
        shared: { topVmIds: ranking.shared.topVmIds, hosts: places(ranking.shared.hosts), datastores: places(ranking.shared.datastores) },
      },
    };
  }
}

/** The first analyses of a datacenter are still being read. */
function pendingReason(progress: AnalysisProgress | null): string {
  const done = progress === null ? '' : ` (${progress.vmsRead.toLocaleString('en-US')} of ${progress.vmsToRead.toLocaleString('en-US')} so far)`;
  return `vscope is reading the period's buckets of every VM for the first time${done}: the ranking follows in a few seconds.`;
}

/** Why a ranking is empty, said so that the reader knows what to do. */
function emptyReason(label: string, counters: readonly string[], visible: number, quiet: number): string {
  if (visible === 0) return 'There is no VM to rank: none of this datacenter\'s VMs is visible to your vSphere account, or they have no statistics (templates).';
  if (quiet > 0) return `Every VM stayed at 0 over the period: no ${label.toLowerCase()} to rank.`;
  const which = counters.length === 1 ? `counter ${counters.join('')}` : `counters ${counters.join(' and ')}`;
  return `No VM has ${label.toLowerCase()} figures in this period: vscope collects them from vCenter's ${which}, which this vCenter does not offer or has not sent yet (ask the vSphere administrator to check the statistics level; figures appear from the next collections on).`;
}
