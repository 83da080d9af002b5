import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BucketSeries } from './bucket-series.ts';
import {
  clusterCapacity,
  datastoreProvisioning,
  forecastDatastoreFill,
  hostCapacity,
  type DatastoreFillForecast,
  type HostCapacityInput,
} from './capacity.ts';

const daySec = 86400;
/** 2024-01-01T00:00:00Z, a day boundary. */
const nowSec = 1_704_067_200;

/**
 * Daily used-space buckets ending at `nowSec`: value k is the bucket starting
 * `(values.length - k)` days before now. Its middle is at x = k - values.length + 0.5 days,
 * exact in binary, so hand-computed slopes come out exact.
 */
function dailyUsed(values: readonly (number | null)[]): BucketSeries {
  const ts = values.map((_, k) => nowSec - (values.length - k) * daySec);
  return { stepSec: daySec, ts, avg: values, max: values };
}

/** 30 daily values on the line `levelNowGB + growthGBPerDay * x` (x = -29.5 ... -0.5 days). */
function line(levelNowGB: number, growthGBPerDay: number, days = 30): number[] {
  return Array.from({ length: days }, (_, k) => levelNowGB + growthGBPerDay * (k - days + 0.5));
}

const window30 = { fromSec: nowSec - 30 * daySec, toSec: nowSec };

/** The fields every "no trend" forecast has. */
const noTrend = {
  fittedUsedGB: null,
  growthGBPerDay: null,
  growthLowGBPerDay: null,
  growthHighGBPerDay: null,
  growthPctOfCapacityPerDay: null,
  levelShifts: [],
  daysUntilFull: null,
  daysUntilFullEarliest: null,
  daysUntilFullLatest: null,
  fullAtSec: null,
  fullEarliestAtSec: null,
  fullLatestAtSec: null,
};

void describe('forecastDatastoreFill', () => {
  const steady = line(4000, 10); // 3705, 3715, ..., 3995 GB
  const cases: { name: string; capacityGB?: number; used: (number | null)[]; expected: Partial<DatastoreFillForecast> }[] = [
    {
      // 6,000 GB free at 10 GB/day: 600 days; every pairwise slope is 10, so the interval is a point.
      name: 'steady growth',
      used: steady,
      expected: {
        status: 'filling',
        points: 30,
        latestUsedGB: 3995,
        fittedUsedGB: 4000,
        growthGBPerDay: 10,
        growthLowGBPerDay: 10,
        growthHighGBPerDay: 10,
        growthPctOfCapacityPerDay: 0.1,
        levelShifts: [],
        daysUntilFull: 600,
        daysUntilFullEarliest: 600,
        daysUntilFullLatest: 600,
        fullAtSec: nowSec + 600 * daySec,
      },
    },
    {
      name: 'gaps are left out, not read as zero',
      used: steady.map((value, k) => (k % 3 === 1 ? null : value)),
      expected: { status: 'filling', points: 20, fittedUsedGB: 4000, growthGBPerDay: 10, daysUntilFull: 600 },
    },
    {
      name: 'a flat trend is not filling',
      used: line(5000, 0),
      expected: { status: 'notFilling', fittedUsedGB: 5000, growthGBPerDay: 0, daysUntilFull: null, fullAtSec: null },
    },
    {
      name: 'a falling trend is not filling',
      used: line(6000, -5),
      expected: { status: 'notFilling', fittedUsedGB: 6000, growthGBPerDay: -5, growthPctOfCapacityPerDay: -0.05, daysUntilFull: null },
    },
    {
      // +50 GB on day 10 only (0.5 % of capacity: below a level shift). Pairs with it: 10 slopes
      // above 10 and 19 below, the 406 others are exactly 10, and the median (rank 218 of 435)
      // and Sen's ranks (163 and 273) all fall among them. Offsets y - 10x: 4000 but one.
      name: 'a single spike below the level-shift size does not bend the slope',
      used: steady.map((value, k) => (k === 10 ? value + 50 : value)),
      expected: { status: 'filling', levelShifts: [], fittedUsedGB: 4000, growthGBPerDay: 10, growthLowGBPerDay: 10, growthHighGBPerDay: 10, daysUntilFull: 600 },
    },
    {
      // +2,000 GB on day 10 only: a jump up and one down, both taken out; they cancel in the level.
      name: 'a single big spike is two level shifts that cancel',
      used: steady.map((value, k) => (k === 10 ? value + 2000 : value)),
      expected: {
        status: 'filling',
        levelShifts: [
          { bucketSec: nowSec - 20 * daySec, changeGB: 2000 },
          { bucketSec: nowSec - 19 * daySec, changeGB: -2000 },
        ],
        fittedUsedGB: 4000,
        growthGBPerDay: 10,
        daysUntilFull: 600,
      },
    },
    {
      // A 1,500 GB copy on day 15 that stays: with it, 225 of the 435 pairs straddle the step
      // and the plain median would be bent. Taken out, the slope stays 10; the level is
      // 4000 + 1500, so 4,500 GB free: 450 days.
      name: 'a single big copy (a step) moves the level, not the slope',
      used: steady.map((value, k) => (k >= 15 ? value + 1500 : value)),
      expected: {
        status: 'filling',
        latestUsedGB: 5495,
        levelShifts: [{ bucketSec: nowSec - 15 * daySec, changeGB: 1500 }],
        fittedUsedGB: 5500,
        growthGBPerDay: 10,
        growthLowGBPerDay: 10,
        growthHighGBPerDay: 10,
        daysUntilFull: 450,
        fullAtSec: nowSec + 450 * daySec,
      },
    },
    {
      // Four jumps of 200 GB: more than maxLevelShifts, so they are how it grows and all count.
      // Pairwise slopes then vary; only the status and the absence of shifts are asserted.
      name: 'many jumps are the growth pattern, not level shifts',
      used: steady.map((value, k) => value + 200 * Math.floor(k / 7)),
      expected: { status: 'filling', levelShifts: [] },
    },
    {
      // 10,000 GB * 0.01 % = 1 GB/day exactly: filling, 6,000 GB free -> 6,000 days.
      name: 'growth exactly at the not-filling threshold is filling',
      used: line(4000, 1),
      expected: { status: 'filling', growthGBPerDay: 1, growthPctOfCapacityPerDay: 0.01, daysUntilFull: 6000 },
    },
    {
      name: 'growth just under the threshold is not filling',
      used: line(4000, 0.5),
      expected: { status: 'notFilling', growthGBPerDay: 0.5, daysUntilFull: null },
    },
    {
      name: 'a datastore at capacity is full',
      used: line(10_000, 10),
      expected: { status: 'full', fittedUsedGB: 10_000, daysUntilFull: 0, fullAtSec: nowSec, fullLatestAtSec: nowSec },
    },
    {
      name: 'empty input is insufficient data',
      used: [],
      expected: { status: 'insufficientData', points: 0, firstBucketSec: null, lastBucketSec: null, latestUsedGB: null, ...noTrend },
    },
    {
      name: 'nine points are too few',
      used: line(4000, 10, 9),
      expected: { status: 'insufficientData', points: 9, ...noTrend },
    },
    {
      name: 'a datastore without capacity has no forecast',
      capacityGB: 0,
      used: steady,
      expected: { status: 'insufficientData', points: 30, ...noTrend },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const forecast = forecastDatastoreFill({ capacityGB: c.capacityGB ?? 10_000, usedGB: dailyUsed(c.used) }, nowSec);
      const picked = Object.fromEntries(Object.keys(c.expected).map((key) => [key, forecast[key as keyof DatastoreFillForecast]]));
      assert.deepEqual(picked, c.expected);
      assert.deepEqual(forecast.window, window30);
    });
  }

  void it('gives a range from the interval of the slope', () => {
    // Day u = 0..9 (x = u - 9.5) holds 5000 + 20x + u^2. The slope of pair (i, j) is 20 + i + j:
    // median 29, Sen's bounds 26 and 32 (as in robust-trend.test.ts). Consecutive changes
    // depart from the median rate 30 by at most 9 GB: no level shift. Offsets y - 29x are
    // 5085.5 + u^2 - 9u, median 5085.5 - 14 = 5071.5; free 4928.5 GB.
    const used = Array.from({ length: 10 }, (_, u) => 5000 + 20 * (u - 9.5) + u * u);
    const forecast = forecastDatastoreFill({ capacityGB: 10_000, usedGB: dailyUsed(used) }, nowSec);
    assert.deepEqual(
      [forecast.status, forecast.growthGBPerDay, forecast.growthLowGBPerDay, forecast.growthHighGBPerDay, forecast.fittedUsedGB],
      ['filling', 29, 26, 32, 5071.5],
    );
    assert.equal(forecast.daysUntilFull, 4928.5 / 29);
    assert.equal(forecast.daysUntilFullEarliest, 4928.5 / 32);
    assert.equal(forecast.daysUntilFullLatest, 4928.5 / 26);
    assert.equal(forecast.fullEarliestAtSec, nowSec + Math.round((4928.5 / 32) * daySec));
  });

  void it('says "may never fill" at the low end when the interval reaches flat', () => {
    // Slopes 20 + i + j - 26 of the data above: median 3, low end 0 (under 1 GB/day), high 6.
    const used = Array.from({ length: 10 }, (_, u) => 5000 - 6 * (u - 9.5) + u * u);
    const forecast = forecastDatastoreFill({ capacityGB: 10_000, usedGB: dailyUsed(used) }, nowSec);
    assert.deepEqual([forecast.status, forecast.growthGBPerDay, forecast.growthLowGBPerDay], ['filling', 3, 0]);
    assert.equal(forecast.daysUntilFullLatest, null);
    assert.equal(forecast.fullLatestAtSec, null);
  });

  void it('needs a span of 3 days: exactly 3 is enough, under is not', () => {
    // Ten 8-hour buckets: middles 3 days apart from first to last.
    const ts = Array.from({ length: 10 }, (_, k) => nowSec - (10 - k) * 28_800);
    const avg = ts.map((_, k) => 1000 + k);
    const threeDays = forecastDatastoreFill({ capacityGB: 10_000, usedGB: { stepSec: 28_800, ts, avg, max: avg } }, nowSec);
    assert.equal(threeDays.status, 'filling');
    // Ten 7-hour buckets: 63 hours from the first middle to the last.
    const shortTs = Array.from({ length: 10 }, (_, k) => nowSec - (10 - k) * 25_200);
    const shorter = forecastDatastoreFill({ capacityGB: 10_000, usedGB: { stepSec: 25_200, ts: shortTs, avg, max: avg } }, nowSec);
    assert.equal(shorter.status, 'insufficientData');
  });

  void it('reads only the last 30 days', () => {
    // A wild bucket 31 days ago and one after now are outside the window.
    const usedGB = dailyUsed(steady);
    const withOutsiders = {
      stepSec: daySec,
      ts: [nowSec - 31 * daySec, ...usedGB.ts, nowSec],
      avg: [9000, ...steady, 9000],
      max: [9000, ...steady, 9000],
    };
    const forecast = forecastDatastoreFill({ capacityGB: 10_000, usedGB: withOutsiders }, nowSec);
    assert.deepEqual([forecast.points, forecast.growthGBPerDay, forecast.daysUntilFull], [30, 10, 600]);
  });

  void it('does not change its input', () => {
    const used = steady.map((value, k) => (k >= 15 ? value + 1500 : value));
    const usedGB = dailyUsed(used);
    forecastDatastoreFill({ capacityGB: 10_000, usedGB }, nowSec);
    assert.deepEqual(usedGB.avg, steady.map((value, k) => (k >= 15 ? value + 1500 : value)));
  });
});

void describe('datastoreProvisioning', () => {
  const cases: { name: string; capacityGB: number; provisionedGB: number; pct: number | null; ratio: number | null; overGB: number }[] = [
    { name: 'overcommitted by half', capacityGB: 1000, provisionedGB: 1500, pct: 150, ratio: 1.5, overGB: 500 },
    { name: 'under capacity', capacityGB: 1000, provisionedGB: 800, pct: 80, ratio: 0.8, overGB: 0 },
    { name: 'no capacity', capacityGB: 0, provisionedGB: 200, pct: null, ratio: null, overGB: 200 },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      assert.deepEqual(datastoreProvisioning(c.capacityGB, c.provisionedGB, nowSec), {
        collectedAtSec: nowSec,
        capacityGB: c.capacityGB,
        provisionedGB: c.provisionedGB,
        provisionedPctOfCapacity: c.pct,
        overcommitRatio: c.ratio,
        overcommittedGB: c.overGB,
      });
    });
  }
});

/** A host of three 300-second buckets at 0, 300 and 600. */
function host(
  hostId: string,
  capacity: { cpuMhz: number; memoryMB: number; cores?: number; vcpus?: number; vms?: number },
  cpu: { avg: (number | null)[]; max: (number | null)[] },
  memory: { avg: (number | null)[]; max: (number | null)[] },
): HostCapacityInput {
  const ts = [0, 300, 600];
  return {
    hostId,
    cpuCapacityMhz: capacity.cpuMhz,
    memoryCapacityMB: capacity.memoryMB,
    cpuCores: capacity.cores ?? 10,
    vcpus: capacity.vcpus ?? 20,
    vms: capacity.vms ?? 5,
    cpuUsedMhz: { stepSec: 300, ts, ...cpu },
    memConsumedMB: { stepSec: 300, ts, ...memory },
  };
}
const period = { fromSec: 0, toSec: 900 };
const none = { avg: [null, null, null], max: [null, null, null] };

void describe('hostCapacity', () => {
  void it('gives headroom now from the newest average and at the peak from the maxima', () => {
    const input = host(
      'h1',
      { cpuMhz: 20_000, memoryMB: 131_072, cores: 16, vcpus: 40, vms: 10 },
      { avg: [5000, 8000, 6000], max: [7000, 15_000, 9000] },
      { avg: [60_000, 65_536, null], max: [70_000, 98_304, null] },
    );
    assert.deepEqual(hostCapacity(input, period), {
      hostId: 'h1',
      window: period,
      stepSec: 300,
      cpuCapacityMhz: 20_000,
      memoryCapacityMB: 131_072,
      cpuCores: 16,
      vcpus: 40,
      vms: 10,
      vcpuPerCore: 2.5,
      vmsPerCore: 0.625,
      cpuNow: { bucketSec: 600, usedMhz: 6000, headroomMhz: 14_000, headroomPct: 70 },
      cpuPeak: { bucketSec: 300, usedMhz: 15_000, headroomMhz: 5000, headroomPct: 25 },
      // Memory's newest bucket is a gap: "now" is the bucket before.
      memoryNow: { bucketSec: 300, usedMB: 65_536, headroomMB: 65_536, headroomPct: 50 },
      memoryPeak: { bucketSec: 300, usedMB: 98_304, headroomMB: 32_768, headroomPct: 25 },
    });
  });
  void it('has no readings without data and no ratios without cores', () => {
    const empty = hostCapacity(host('h0', { cpuMhz: 0, memoryMB: 0, cores: 0 }, none, none), period);
    assert.deepEqual([empty.cpuNow, empty.cpuPeak, empty.memoryNow, empty.memoryPeak, empty.vcpuPerCore, empty.vmsPerCore], [null, null, null, null, null, null]);
  });
});

void describe('clusterCapacity', () => {
  void it('sums hosts at the same bucket and fails N+1 on memory while CPU survives', () => {
    const hosts = [
      host('h1', { cpuMhz: 10_000, memoryMB: 100_000 }, { avg: [2000, 3000, 1000], max: [4000, 6000, 3000] }, { avg: [70_000, 80_000, 65_000], max: [80_000, 90_000, 70_000] }),
      host('h2', { cpuMhz: 10_000, memoryMB: 100_000 }, { avg: [2500, 1000, null], max: [5000, 2000, 7000] }, { avg: [55_000, 55_000, 55_000], max: [60_000, 60_000, 60_000] }),
      host('h3', { cpuMhz: 10_000, memoryMB: 200_000 }, { avg: [1000, 1000, 1000], max: [3000, 3000, 3000] }, { avg: [85_000, 90_000, 75_000], max: [90_000, 100_000, 80_000] }),
    ];
    const cluster = clusterCapacity('c1', hosts, period);
    // CPU maxima summed per bucket: 12,000, 11,000, 13,000 -> peak 13,000 at 600, below the
    // 16,000 of each host's own peak added up. Averages: bucket 600 lacks h2, so "now" is 300.
    assert.deepEqual(cluster.cpuPeak, { bucketSec: 600, usedMhz: 13_000, headroomMhz: 17_000, headroomPct: (17_000 / 30_000) * 100 });
    assert.equal(cluster.cpuSumOfHostPeaksMhz, 16_000);
    assert.deepEqual(cluster.cpuNow, { bucketSec: 300, usedMhz: 5000, headroomMhz: 25_000, headroomPct: (25_000 / 30_000) * 100 });
    // All three have 10,000 MHz: the lowest id is the one lost; 20,000 remain for 13,000.
    assert.deepEqual(cluster.nPlusOne.cpu, {
      survives: true,
      biggestHostId: 'h1',
      remainingCapacityMhz: 20_000,
      peakDemandMhz: 13_000,
      peakBucketSec: 600,
      marginMhz: 7000,
      marginPct: 35,
    });
    // Memory maxima per bucket: 230,000, 250,000, 210,000. Losing h3 (200,000 MB) leaves 200,000.
    assert.deepEqual(cluster.nPlusOne.memory, {
      survives: false,
      biggestHostId: 'h3',
      remainingCapacityMB: 200_000,
      peakDemandMB: 250_000,
      peakBucketSec: 300,
      marginMB: -50_000,
      marginPct: -25,
    });
    assert.deepEqual(cluster.memoryNow, { bucketSec: 600, usedMB: 195_000, headroomMB: 205_000, headroomPct: (205_000 / 400_000) * 100 });
    assert.deepEqual(
      [cluster.cpuCapacityMhz, cluster.memoryCapacityMB, cluster.cpuCores, cluster.vcpus, cluster.vms, cluster.vcpuPerCore, cluster.vmsPerCore],
      [30_000, 400_000, 30, 60, 15, 2, 0.5],
    );
    assert.deepEqual([cluster.bucketsWithGaps, cluster.hostsWithoutData], [0, []]);
  });

  void it("counts a host's gap as its own period peak, so a gap never hides a peak", () => {
    // h1 has no maximum at 300; its period peak (5,000) stands in: 5,000 + 9,000 = 14,000.
    // Read as zero, the gap would give a peak of 9,000.
    const hosts = [
      host('h1', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [4000, null, 3000], max: [5000, null, 4000] }, none),
      host('h2', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [2000, 8000, 1000], max: [3000, 9000, 2000] }, none),
    ];
    const cluster = clusterCapacity('c1', hosts, period);
    assert.deepEqual([cluster.cpuPeak?.usedMhz, cluster.cpuPeak?.bucketSec, cluster.bucketsWithGaps], [14_000, 300, 1]);
    assert.equal(cluster.cpuSumOfHostPeaksMhz, 14_000);
    assert.deepEqual(cluster.cpuNow, { bucketSec: 600, usedMhz: 4000, headroomMhz: 16_000, headroomPct: 80 });
  });

  void it('a one-host cluster never survives N+1', () => {
    const cluster = clusterCapacity('c1', [host('h1', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [1000, 1000, 1000], max: [2000, 2000, 2000] }, none)], period);
    assert.deepEqual(cluster.nPlusOne.cpu, {
      survives: false,
      biggestHostId: 'h1',
      remainingCapacityMhz: 0,
      peakDemandMhz: 2000,
      peakBucketSec: 0,
      marginMhz: -2000,
      marginPct: null,
    });
    // No memory data at all: no verdict.
    assert.equal(cluster.nPlusOne.memory.survives, null);
  });

  void it('a one-host cluster fails N+1 even with no demand: nothing can take over', () => {
    const cluster = clusterCapacity('c1', [host('h1', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [0, 0, 0], max: [0, 0, 0] }, none)], period);
    assert.deepEqual([cluster.nPlusOne.cpu.survives, cluster.nPlusOne.cpu.marginMhz], [false, 0]);
  });

  void it('survives N+1 when the peak exactly fills what remains', () => {
    const hosts = [
      host('h1', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [1, 1, 1], max: [6000, 1000, 1000] }, none),
      host('h2', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [1, 1, 1], max: [4000, 1000, 1000] }, none),
    ];
    const { cpu } = clusterCapacity('c1', hosts, period).nPlusOne;
    assert.deepEqual([cpu.survives, cpu.peakDemandMhz, cpu.marginMhz, cpu.marginPct], [true, 10_000, 0, 0]);
  });

  void it('lists hosts without data and counts them as no demand', () => {
    const hosts = [
      host('h1', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [1000, 1000, 1000], max: [3000, 2000, 1000] }, { avg: [100, 100, 100], max: [200, 200, 200] }),
      host('h2', { cpuMhz: 12_000, memoryMB: 1000 }, none, none),
    ];
    const cluster = clusterCapacity('c1', hosts, period);
    assert.deepEqual(cluster.hostsWithoutData, ['h2']);
    // Losing h2, the biggest, leaves h1's 10,000 MHz for the 3,000 MHz peak.
    assert.deepEqual([cluster.nPlusOne.cpu.biggestHostId, cluster.nPlusOne.cpu.marginMhz, cluster.cpuNow?.usedMhz], ['h2', 7000, 1000]);
  });

  void it('gives the same figures whether its hosts share their buckets or not', () => {
    // Shared buckets are read by index, others through a map per host: the sparse shape lists
    // only the buckets where a host has a value, and the first host one more past the window.
    const sparse = (series: BucketSeries, extra: boolean): BucketSeries => {
      const keep = series.ts.map((_, i) => series.avg[i] !== null || series.max[i] !== null);
      const pick = <T,>(column: readonly T[]): T[] => column.filter((_, i) => keep[i]);
      const past = extra ? { ts: [900], value: [99_999] } : { ts: [], value: [] };
      return { stepSec: series.stepSec, ts: [...pick(series.ts), ...past.ts], avg: [...pick(series.avg), ...past.value], max: [...pick(series.max), ...past.value] };
    };
    const clusters = [
      [
        host('h1', { cpuMhz: 10_000, memoryMB: 100_000 }, { avg: [2000, 3000, 1000], max: [4000, 6000, 3000] }, { avg: [70_000, 80_000, 65_000], max: [80_000, 90_000, 70_000] }),
        host('h2', { cpuMhz: 10_000, memoryMB: 100_000 }, { avg: [2500, 1000, null], max: [5000, 2000, 7000] }, { avg: [55_000, null, 55_000], max: [60_000, null, 60_000] }),
        host('h3', { cpuMhz: 10_000, memoryMB: 200_000 }, none, { avg: [85_000, 90_000, 75_000], max: [90_000, 100_000, 80_000] }),
      ],
      [
        host('h1', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [4000, null, 3000], max: [5000, null, 4000] }, none),
        host('h2', { cpuMhz: 10_000, memoryMB: 1000 }, { avg: [2000, 8000, 1000], max: [3000, 9000, 2000] }, none),
      ],
    ];
    for (const hosts of clusters) {
      const shared = clusterCapacity('c1', hosts, period);
      const spread = hosts.map((input, index) => ({ ...input, cpuUsedMhz: sparse(input.cpuUsedMhz, index === 0), memConsumedMB: sparse(input.memConsumedMB, index === 0) }));
      assert.deepEqual(clusterCapacity('c1', spread, period), { ...shared, stepSec: spread[0]?.cpuUsedMhz.stepSec ?? 0 });
    }
  });

  void it('an empty cluster has no figures', () => {
    const cluster = clusterCapacity('c0', [], period);
    assert.deepEqual(
      [cluster.cpuNow, cluster.cpuPeak, cluster.cpuSumOfHostPeaksMhz, cluster.nPlusOne.cpu.survives, cluster.nPlusOne.cpu.biggestHostId, cluster.vcpuPerCore],
      [null, null, null, null, null, null],
    );
  });
});
