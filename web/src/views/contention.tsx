/**
 * Contention (PRODUCT.md "Contention"): the VMs that suffered most on one metric over a period,
 * ranked by peak or by time above the threshold, beside the hosts and datastores the worst of
 * them share. Each row opens the VM's graphs around its peak.
 */
import type { ContentionResponse, ContentionRowView, SharedPlaceView } from '../../../src/shared/api.ts';
import type { ContentionRankBy } from '../../../src/shared/contention.ts';
import { NONE, formatDateTime, formatDuration, formatMetric, formatNumber } from '../../../src/shared/format.ts';
import { contentionHealth, contentionMetricKeys, contentionMetrics, graphRangeAround, insightsPeriods, type ContentionMetric, type InsightsPeriod } from '../../../src/shared/insights.ts';
import { Badge, EntityLink, ErrorNote, Panel } from '../components/bits.tsx';
import { navigate } from '../hooks.ts';
import { compareHref, entityRangeHref } from '../route.ts';
import { PeriodSelect, ProgressNote, WindowNote, usePolledApi } from './insights-bits.tsx';

const metricLabels: Readonly<Record<ContentionMetric, string>> = {
  cpuReady: 'CPU ready',
  diskLatency: 'Disk latency',
  balloon: 'Ballooning',
  swap: 'Swapping',
  netDrops: 'Network drops',
};

/** Peaks are shown with two decimals for percentages (CPU ready), as elsewhere. */
function peakText(value: number, unit: string): string {
  return unit === 'percent' ? `${formatNumber(value, 2)} %` : formatMetric(value, unit);
}

/** A threshold as it was chosen: `5 %`, `20 ms`, `0 MB`. */
function thresholdText(value: number, unit: string): string {
  return unit === 'percent' ? `${formatNumber(value, Number.isInteger(value) ? 0 : 1)} %` : formatMetric(value, unit);
}

function Ranking({ data }: { data: ContentionResponse }) {
  const graphOf = (row: ContentionRowView): string => {
    const range = graphRangeAround(row.peakBucketSec, data.window.stepSec, data.nowSec);
    return entityRangeHref(row.vmId, range.fromSec, range.toSec);
  };
  return (
    <div class="table-scroll">
      <table class="data compact" data-testid="contention-table">
        <thead>
          <tr>
            <th scope="col" class="num">#</th>
            <th scope="col">VM</th>
            <th scope="col" class="num" title="Highest stored maximum (a 20-second sample)">Peak</th>
            <th scope="col" class="num">Peak at</th>
            <th scope="col" class="num" title="Time whose bucket average is above the threshold">Time above</th>
            <th scope="col" class="num" title="Time whose bucket maximum is above it: an upper bound of the time above">Above at times</th>
            <th scope="col" class="num" title="Time of the period with figures">Data</th>
            <th scope="col">Host</th>
            <th scope="col">Datastores</th>
            <th scope="col">Graph</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.map((row) => (
            <tr key={row.vmId} data-id={row.vmId}>
              <td class="num">{row.rank}</td>
              <td>
                <a href={graphOf(row)} title={`${row.name}: graphs around the peak`}>
                  {row.name}
                </a>
              </td>
              <td class="num">
                <Badge health={contentionHealth(data.metric, row.peak)}>{peakText(row.peak, data.unit)}</Badge>
              </td>
              <td class="num">{formatDateTime(row.peakBucketSec)}</td>
              <td class="num">{row.timeAboveSec > 0 ? formatDuration(row.timeAboveSec) : NONE}</td>
              <td class="num">{row.timeAboveByMaxSec > 0 ? formatDuration(row.timeAboveByMaxSec) : NONE}</td>
              <td class="num">{formatDuration(row.coveredSec)}</td>
              <td>{row.hostId === null || row.hostName === null ? NONE : <EntityLink id={row.hostId} name={row.hostName} kind="host" />}</td>
              <td>
                {row.datastores.length === 0
                  ? NONE
                  : row.datastores.map((ds, i) => (
                      <span key={ds.id}>
                        {i > 0 && ', '}
                        <EntityLink id={ds.id} name={ds.name} kind="datastore" />
                      </span>
                    ))}
              </td>
              <td>
                <a href={graphOf(row)} data-testid="contention-graph-link">
                  At the peak
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Shared({ title, places, kind, names, anyTop, testId }: { title: string; places: readonly SharedPlaceView[]; kind: 'host' | 'datastore'; names: ReadonlyMap<string, string>; anyTop: boolean; testId: string }) {
  return (
    <Panel title={title} testId={testId}>
      {places.length === 0 ? (
        <p class="note">{anyTop ? 'None that you may see.' : 'No VM went above the threshold.'}</p>
      ) : (
        <table class="data compact">
          <tbody>
            {places.map((place) => (
              <tr key={place.id} data-id={place.id}>
                <td>
                  <EntityLink id={place.id} name={place.name} kind={kind} />
                </td>
                <td class="num" title="Top VMs on it">
                  {place.topVms > 1 ? <Badge health="warning">{place.topVms} VMs</Badge> : '1 VM'}
                </td>
                <td class="shared-vms">{place.vmIds.map((id) => names.get(id) ?? id).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

export function ContentionView({ dc, period, metric, rankBy }: { dc: string; period: InsightsPeriod; metric: ContentionMetric; rankBy: ContentionRankBy }) {
  const path = `/api/datacenters/${encodeURIComponent(dc)}/contention?period=${period}&metric=${metric}&rankBy=${rankBy}`;
  const loaded = usePolledApi<ContentionResponse>(path, (answer) => answer.progress !== null);
  const data = loaded.data;
  const go = (change: Partial<{ period: InsightsPeriod; metric: ContentionMetric; rankBy: ContentionRankBy }>): void =>
    navigate({ view: 'contention', dc, period, metric, rankBy, ...change });
  const names = new Map((data?.rows ?? []).map((row) => [row.vmId, row.name]));
  const top = (data?.rows ?? []).slice(0, 10).map((row) => row.vmId);

  return (
    <div class="insights" data-testid="contention-view">
      <div class="chart-tools">
        <PeriodSelect periods={insightsPeriods} value={period} onChange={(p) => go({ period: p })} />
        <label class="inline-field">
          <span>Metric</span>
          <select data-testid="contention-metric" value={metric} onChange={(e) => go({ metric: e.currentTarget.value as ContentionMetric })}>
            {contentionMetricKeys.map((key) => (
              <option key={key} value={key}>
                {metricLabels[key]}
              </option>
            ))}
          </select>
        </label>
        <div class="segmented" role="group" aria-label="Rank by" data-testid="contention-rank-by">
          {(['peak', 'timeAbove'] as const).map((by) => (
            <button key={by} type="button" data-rank-by={by} aria-pressed={by === rankBy} class={by === rankBy ? 'active' : undefined} onClick={() => go({ rankBy: by })}>
              {by === 'peak' ? 'By peak' : 'By time above'}
            </button>
          ))}
        </div>
        {top.length > 1 && (
          <a class="btn" href={compareHref(dc, 'vm', top, contentionMetrics[metric].sources[0] ?? null, period)} data-testid="contention-compare">
            Compare the top {top.length}
          </a>
        )}
      </div>
      {loaded.error && <ErrorNote message={`The ranking could not be loaded: ${loaded.error.message}`} />}
      {data === null && !loaded.error && <p class="note">Loading the ranking…</p>}
      {data !== null && (
        <>
          <p class="note" data-testid="contention-summary">
            <WindowNote label="Complete buckets" window={data.window} testId="contention-window" />. {data.label}: above {thresholdText(data.threshold, data.unit)} counts ({data.thresholdNote}).{' '}
            {formatNumber(data.vmsRanked)} VMs ranked
            {data.vmsQuiet > 0 ? `, ${formatNumber(data.vmsQuiet)} at 0 all period` : ''}
            {data.vmsWithoutData > 0 ? `, ${formatNumber(data.vmsWithoutData)} without figures` : ''}.
          </p>
          <ProgressNote progress={data.progress} what="the ranking" />
          {data.reason !== null && data.progress === null && (
            <p class="note note-box" data-testid="contention-reason">
              {data.reason}
            </p>
          )}
          {data.rows.length > 0 && (
            <div class="insights-columns">
              <Panel title={`Worst ${metricLabels[data.metric].toLowerCase()}, ${rankBy === 'peak' ? 'by peak' : 'by time above'}`} testId="contention-ranking">
                <Ranking data={data} />
              </Panel>
              <div class="insights-side">
                <Shared title="Hosts the worst share" places={data.shared.hosts} kind="host" names={names} anyTop={data.shared.topVmIds.length > 0} testId="contention-shared-hosts" />
                <Shared title="Datastores the worst share" places={data.shared.datastores} kind="datastore" names={names} anyTop={data.shared.topVmIds.length > 0} testId="contention-shared-datastores" />
              </div>
            </div>
          )}
        </>
      )}
    </div>
  );
}
