import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelaySec } from './collector.ts';
import { runPool } from './pool.ts';

void test('backoffDelaySec doubles from the base and stops at four intervals', () => {
  const cases: [number, number][] = [
    [0, 120],
    [1, 30],
    [2, 60],
    [3, 120],
    [4, 240],
    [5, 480],
    [6, 480],
    [40, 480],
  ];
  for (const [failures, expected] of cases) assert.equal(backoffDelaySec(failures, 120, 30), expected, `${String(failures)} failures`);
});

void test('runPool keeps at most `concurrency` tasks in flight and runs every item', async () => {
  let inFlight = 0;
  let peak = 0;
  const seen: number[] = [];
  await runPool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(n);
    inFlight -= 1;
  });
  assert.equal(peak, 3);
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
});

void test('runPool rejects with the first failure after the running tasks settle, and starts no more', async () => {
  const started: number[] = [];
  let settled = 0;
  await assert.rejects(
    runPool([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 1 ? 1 : 10));
      settled += 1;
      if (n === 1) throw new Error('one failed');
    }),
    /one failed/,
  );
  assert.deepEqual(started, [1, 2]);
  assert.equal(settled, 2);
});

void test('runPool takes items from a generator as it goes, and stops taking them after a failure', async () => {
  const made: number[] = [];
  function* items(): Generator<number> {
    for (let n = 1; n <= 6; n++) {
      made.push(n);
      yield n;
    }
  }
  const seen: number[] = [];
  await runPool(items(), 2, async (n) => {
    // When item n runs, at most the items in flight have been made.
    assert.ok(made.length <= n + 1, `made ${String(made.length)} items when running ${String(n)}`);
    seen.push(n);
    await new Promise((resolve) => setTimeout(resolve, 1));
  });
  assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6]);
  made.length = 0;
  await assert.rejects(
    runPool(items(), 1, (n) => (n === 2 ? Promise.reject(new Error('boom')) : Promise.resolve())),
    /boom/,
  );
  assert.deepEqual(made, [1, 2]);
});
