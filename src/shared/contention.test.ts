import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BucketSeries } from './bucket-series.ts';
import {
  cpuReadyPctPerVcpuSeries,
  measureContention,
  rankContention,
  rankMeasured,
  type ContentionMeasure,
  type ContentionOptions,
  type ContentionVmInput,
} from './contention.ts';

const period = { fromSec: 0, toSec: 1200 };

/** Four 300-second buckets at 0, 300, 600 and 900. */
function buckets(avg: (number | null)[], max: (number | null)[]): BucketSeries {
  return { stepSec: 300, ts: [0, 300, 600, 900], avg, max };
}

function vm(vmId: string, hostId: string | null, datastoreIds: string[], series: BucketSeries): ContentionVmInput {
  return { vmId, hostId, datastoreIds, series };
}

// CPU ready per vCPU, threshold 5 %.
const vms: ContentionVmInput[] = [
  // Above on average at 300 and 600; peak 12 at 300.
  vm('vm-a', 'h1', ['ds1', 'ds2'], buckets([2, 6, 7, 1], [4, 12, 9, 3])),
  // Above all period, never very high: peak 8, first at 0.
  vm('vm-b', 'h1', ['ds1'], buckets([6, 6, 6, 6], [8, 8, 8, 8])),
  // One burst to 20 at 0, quiet on average.
  vm('vm-c', 'h2', ['ds1'], buckets([1, 1, 1, 1], [20, 1, 1, 1])),
  // Exactly at the threshold is not above it; one gap.
  vm('vm-d', 'h1', ['ds3'], buckets([5, 5, null, 5], [5, 5, null, 5])),
  vm('vm-e', 'h2', ['ds1'], buckets([null, null, null, null], [null, null, null, null])),
];

const options: ContentionOptions = { metric: 'cpuReadyPctPerVcpu', unit: 'percent', threshold: 5, rankBy: 'peak' };

const rowA = { vmId: 'vm-a', hostId: 'h1', datastoreIds: ['ds1', 'ds2'], peak: 12, peakBucketSec: 300, timeAboveSec: 600, timeAboveByMaxSec: 600, coveredSec: 1200 };
const rowB = { vmId: 'vm-b', hostId: 'h1', datastoreIds: ['ds1'], peak: 8, peakBucketSec: 0, timeAboveSec: 1200, timeAboveByMaxSec: 1200, coveredSec: 1200 };
const rowC = { vmId: 'vm-c', hostId: 'h2', datastoreIds: ['ds1'], peak: 20, peakBucketSec: 0, timeAboveSec: 0, timeAboveByMaxSec: 300, coveredSec: 1200 };
const rowD = { vmId: 'vm-d', hostId: 'h1', datastoreIds: ['ds3'], peak: 5, peakBucketSec: 0, timeAboveSec: 0, timeAboveByMaxSec: 0, coveredSec: 900 };

void describe('rankContention', () => {
  void it('ranks by peak and says which hosts and datastores the top VMs share', () => {
    assert.deepEqual(rankContention(vms, period, options), {
      metric: 'cpuReadyPctPerVcpu',
      unit: 'percent',
      threshold: 5,
      rankBy: 'peak',
      window: period,
      stepSec: 300,
      vmsRanked: 4,
      vmsWithoutData: ['vm-e'],
      rows: [
        { rank: 1, ...rowC },
        { rank: 2, ...rowA },
        { rank: 3, ...rowB },
        { rank: 4, ...rowD },
      ],
      // vm-d peaks at the threshold, not above it: not a top VM.
      shared: {
        topVmIds: ['vm-c', 'vm-a', 'vm-b'],
        hosts: [
          { id: 'h1', topVms: 2, vmIds: ['vm-a', 'vm-b'] },
          { id: 'h2', topVms: 1, vmIds: ['vm-c'] },
        ],
        datastores: [
          { id: 'ds1', topVms: 3, vmIds: ['vm-c', 'vm-a', 'vm-b'] },
          { id: 'ds2', topVms: 1, vmIds: ['vm-a'] },
        ],
      },
    });
  });

  void it('ranks by time above on averages, then on maxima', () => {
    const ranking = rankContention(vms, period, { ...options, rankBy: 'timeAbove' });
    assert.deepEqual(
      ranking.rows.map((row) => [row.rank, row.vmId]),
      [
        [1, 'vm-b'],
        [2, 'vm-a'],
        [3, 'vm-c'],
        [4, 'vm-d'],
      ],
    );
    assert.deepEqual(ranking.shared.topVmIds, ['vm-b', 'vm-a', 'vm-c']);
  });

  void it('breaks a tie on time above (averages) with the time above by maxima, before the peak', () => {
    // Neither is above on average; vm-f's maxima are above all period (1,200 s), vm-c's once
    // (300 s) though higher: vm-f first.
    const steady = vm('vm-f', 'h3', [], buckets([1, 1, 1, 1], [6, 6, 6, 6]));
    const ranking = rankContention([vms[2] as ContentionVmInput, steady], period, { ...options, rankBy: 'timeAbove' });
    assert.deepEqual(ranking.rows.map((row) => [row.vmId, row.timeAboveSec, row.timeAboveByMaxSec, row.peak]), [
      ['vm-f', 0, 1200, 6],
      ['vm-c', 0, 300, 20],
    ]);
  });

  void it('counts only the part of the last bucket inside the period', () => {
    const [row] = rankContention([vms[1] as ContentionVmInput], { fromSec: 0, toSec: 1000 }, options).rows;
    assert.deepEqual([row?.timeAboveSec, row?.timeAboveByMaxSec, row?.coveredSec], [1000, 1000, 1000]);
  });

  void it('keeps the order stable on a tie: by vmId', () => {
    const same = buckets([6, 6, 6, 6], [8, 8, 8, 8]);
    const ranking = rankContention([vm('vm-z', null, [], same), vm('vm-y', null, [], same)], period, options);
    assert.deepEqual(ranking.rows.map((row) => row.vmId), ['vm-y', 'vm-z']);
    assert.deepEqual([ranking.shared.hosts, ranking.shared.datastores], [[], []]);
  });

  void it('returns `limit` rows and counts `sharedTop` VMs', () => {
    const ranking = rankContention(vms, period, { ...options, limit: 2, sharedTop: 1 });
    assert.deepEqual([ranking.rows.length, ranking.vmsRanked, ranking.shared.topVmIds], [2, 4, ['vm-c']]);
  });

  void it('ranks nothing for no VMs', () => {
    const ranking = rankContention([], period, options);
    assert.deepEqual([ranking.rows, ranking.vmsRanked, ranking.vmsWithoutData, ranking.stepSec, ranking.shared.topVmIds], [[], 0, [], 0, []]);
  });

  void it('does not change its input', () => {
    const input = [vm('vm-z', 'h1', ['ds1'], buckets([6, 1, 6, 1], [9, 2, 9, 2])), vm('vm-y', 'h1', ['ds1'], buckets([7, 7, 7, 7], [9, 9, 9, 9]))];
    rankContention(input, period, options);
    assert.deepEqual(input.map((entry) => entry.vmId), ['vm-z', 'vm-y']);
    assert.deepEqual(input[0]?.series.avg, [6, 1, 6, 1]);
  });
});

void describe('measureContention and rankMeasured', () => {
  const measuredAll = (input: readonly ContentionVmInput[]): ContentionMeasure[] =>
    input.map((entry) => measureContention(entry, period, options.threshold)).filter((row): row is ContentionMeasure => row !== null);

  void it('measure each VM as rankContention does: its row without a rank, null without data', () => {
    assert.deepEqual(measureContention(vms[0] as ContentionVmInput, period, 5), rowA);
    assert.equal(measureContention(vms[4] as ContentionVmInput, period, 5), null);
  });

  void it('rank measured VMs exactly as rankContention ranks their series, by either order', () => {
    for (const rankBy of ['peak', 'timeAbove'] as const) {
      const opts = { ...options, rankBy, limit: 3, sharedTop: 2 };
      assert.deepEqual(rankMeasured(measuredAll(vms), ['vm-e'], period, 300, opts), rankContention(vms, period, opts), rankBy);
    }
  });

  void it('take the hosts and datastores of the measured rows as given', () => {
    const hidden = measuredAll(vms).map((row) => (row.vmId === 'vm-c' ? { ...row, hostId: null, datastoreIds: [] } : row));
    const ranking = rankMeasured(hidden, [], period, 300, options);
    assert.deepEqual(ranking.shared.hosts, [{ id: 'h1', topVms: 2, vmIds: ['vm-a', 'vm-b'] }]);
    assert.deepEqual(ranking.shared.datastores[0], { id: 'ds1', topVms: 2, vmIds: ['vm-a', 'vm-b'] });
  });
});

void describe('cpuReadyPctPerVcpuSeries', () => {
  void it('turns ms per 20 s over all vCPUs into percent per vCPU, gaps kept', () => {
    // 2,000 ms of 20,000 is 10 %, over 2 vCPUs 5 %; 4,000 ms gives 10 %.
    assert.deepEqual(cpuReadyPctPerVcpuSeries({ stepSec: 300, ts: [0, 300], avg: [2000, null], max: [4000, null] }, 2), {
      stepSec: 300,
      ts: [0, 300],
      avg: [5, null],
      max: [10, null],
    });
  });
});
