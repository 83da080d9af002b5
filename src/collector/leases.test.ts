import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import { leaseMarginMs, LeaseKeeper } from './leases.ts';

void test('LeaseKeeper: one holder at a time, taken over once the holder stops renewing, given up at stop', async () => {
  const store = openSqliteStore(':memory:');
  const clock = { nowMs: 1_000_000 };
  const a = new LeaseKeeper({ store, holderId: 'a', ttlSec: 30, nowMs: () => clock.nowMs });
  const b = new LeaseKeeper({ store, holderId: 'b', ttlSec: 30, nowMs: () => clock.nowMs });
  try {
    assert.equal(await a.hold('vc1'), true);
    assert.equal(await b.hold('vc1'), false, 'a holds it');
    assert.equal(await b.hold('vc2'), true, 'leases are per vCenter');
    assert.equal(await b.holder('vc1'), 'a');
    clock.nowMs += 20_000;
    assert.equal(await a.hold('vc1'), true, 'a renews');
    clock.nowMs += 29_000;
    assert.equal(await b.hold('vc1'), false, 'renewed 29 s ago: still a');
    clock.nowMs += 1_000;
    assert.equal(await b.hold('vc1'), true, 'a stopped renewing: b takes over after ttlSec');
    assert.equal(await a.hold('vc1'), false, 'and a learns it lost it');
    await b.release('vc1');
    assert.equal(await a.hold('vc1'), true, 'given up at stop: taken at once');
  } finally {
    await a.release('vc1');
    await b.release('vc2');
    store.close();
  }
});

void test('LeaseKeeper: a store that cannot answer means "not held" (fail closed)', async () => {
  const store = openSqliteStore(':memory:');
  store.close();
  const keeper = new LeaseKeeper({ store, holderId: 'a' });
  assert.equal(await keeper.hold('vc1'), false);
  assert.equal(await keeper.holder('vc1'), null);
});

void test('LeaseKeeper.holds: true from a renewal until a margin before it would lapse, without asking the store', async () => {
  const store = openSqliteStore(':memory:');
  const clock = { nowMs: 1_000_000 };
  const a = new LeaseKeeper({ store, holderId: 'a', ttlSec: 30, nowMs: () => clock.nowMs });
  try {
    assert.equal(a.holds('vc1'), false, 'never taken');
    assert.equal(await a.hold('vc1'), true);
    clock.nowMs += 30_000 - leaseMarginMs - 1;
    assert.equal(a.holds('vc1'), true);
    clock.nowMs += 1;
    assert.equal(a.holds('vc1'), false, 'no renewal came back: no longer counted as held');
    assert.equal(await a.hold('vc1'), true, 'renewed (nobody else took it)');
    assert.equal(a.holds('vc1'), true);
    await a.release('vc1');
    assert.equal(a.holds('vc1'), false, 'given up');
  } finally {
    store.close();
  }
});
