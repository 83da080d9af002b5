import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineMetric } from './names.ts';
import { bucketRollups, openBucketStart, rollupSeries } from './rollups.ts';

const day = 1_700_006_400; // a multiple of 86,400: 2023-11-15T00:00:00Z

void describe('bucketRollups', () => {
  void it('buckets realtime samples by the end of their interval, like SQLite', () => {
    // Ends at day+20 .. day+300 fall in [day, day+300); day+320 opens the next bucket.
    const ts = [day, day + 20, day + 300, day + 320, day + 600];
    const columns = bucketRollups(ts, [8, 1, 3, 5, null], 20, 300);
    assert.deepEqual(columns, {
      widthSec: 300,
      startSec: [day - 300, day, day + 300],
      rollups: [
        { sum: 8, count: 1, min: 8, max: 8 },
        { sum: 4, count: 2, min: 1, max: 3 },
        { sum: 5, count: 1, min: 5, max: 5 },
      ],
    });
  });

  void it('leaves out buckets that are still open', () => {
    const ts = [day + 20, day + 300, day + 320];
    const open = openBucketStart(day + 320, 20);
    assert.equal(open, day + 300);
    assert.deepEqual(bucketRollups(ts, [1, 2, 3], 20, 300, open).startSec, [day]);
  });

  void it('weighs a 5-minute historical sample as 15 realtime ones', () => {
    assert.deepEqual(bucketRollups([day + 300], [2.5], 300, 300).rollups, [{ sum: 37.5, count: 15, min: 2.5, max: 2.5 }]);
  });

  void it('aligns a daily sample stamped off midnight on the day SQLite puts it in', () => {
    // vCenter's daily samples may end at the vCenter's local midnight (here 23:00 UTC).
    const columns = bucketRollups([day + 82_800], [4], 86_400, 86_400);
    assert.deepEqual(columns.startSec, [day - 86_400]);
  });
});

void describe('rollupSeries', () => {
  void it('writes four series stamped at the end of each bucket, the metric and rollup as labels', () => {
    const metric = engineMetric('vm', 'cpuReadyMs');
    assert.ok(metric);
    const series = rollupSeries(metric, { vcenter: 'vc', entityId: 'vm-1', name: 'web' }, bucketRollups([day + 20, day + 40], [1, 3], 20, 300), '5m');
    assert.deepEqual(
      series.map((one) => [one.labels[0]?.value, one.timestampsMs, one.values]),
      [
        ['vscope_rollup_sum', [(day + 300) * 1000], [4]],
        ['vscope_rollup_count', [(day + 300) * 1000], [2]],
        ['vscope_rollup_min', [(day + 300) * 1000], [1]],
        ['vscope_rollup_max', [(day + 300) * 1000], [3]],
      ],
    );
    assert.deepEqual(
      series[0]?.labels.slice(1),
      [
        { name: 'entity_id', value: 'vm-1' },
        { name: 'vcenter', value: 'vc' },
        { name: 'vm_name', value: 'web' },
        { name: 'metric', value: 'vmware_vm_cpu_ready_summation' },
        { name: 'rollup', value: '5m' },
      ],
    );
  });
});
