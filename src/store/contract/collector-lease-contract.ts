/**
 * The CollectorLeaseStore contract: one collector at a time per vCenter, a dead one's lease
 * taken over once it lapses. Expected leases are written out by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CollectorLeaseStore } from '../store.ts';
import { withSubject, type OpenSubject } from './subject.ts';

const t0 = 1_700_000_000_000;
const ttlSec = 60;

export function collectorLeaseStoreContract(name: string, open: OpenSubject<CollectorLeaseStore>): void {
  void describe(`CollectorLeaseStore contract: ${name}`, () => {
    void it('gives a lease to one holder at a time, renews it, and lets another take it once it lapsed', () =>
      withSubject(open, async ({ store, other }) => {
        const b = await other();
        assert.equal(await store.acquireLease('vc1', 'collector-a', ttlSec, t0), true, 'taken');
        assert.equal(await b.acquireLease('vc1', 'collector-b', ttlSec, t0 + 1000), false, 'held by a');
        assert.equal(await store.acquireLease('vc1', 'collector-a', ttlSec, t0 + 30_000), true, 'renewed');
        assert.deepEqual(await b.leases(), [{ vcenterId: 'vc1', holderId: 'collector-a', acquiredMs: t0, expiresMs: t0 + 90_000 }]);
        assert.equal(await b.acquireLease('vc1', 'collector-b', ttlSec, t0 + 61_000), false, 'the renewal holds past the first ttl');
        assert.equal(await b.acquireLease('vc1', 'collector-b', ttlSec, t0 + 89_999), false, 'a millisecond before it lapses');
        assert.equal(await b.acquireLease('vc1', 'collector-b', ttlSec, t0 + 90_000), true, 'lapsed: taken over');
        assert.deepEqual(await store.leases(), [{ vcenterId: 'vc1', holderId: 'collector-b', acquiredMs: t0 + 90_000, expiresMs: t0 + 150_000 }]);
        assert.equal(await store.acquireLease('vc1', 'collector-a', ttlSec, t0 + 91_000), false, 'the old holder learns it lost it');
      }));

    void it('frees a lease its holder releases; another holder cannot release it', () =>
      withSubject(open, async ({ store }) => {
        assert.equal(await store.acquireLease('vc1', 'collector-a', ttlSec, t0), true);
        await store.releaseLease('vc1', 'collector-b');
        assert.equal(await store.acquireLease('vc1', 'collector-b', ttlSec, t0 + 1000), false, 'still a\'s');
        await store.releaseLease('vc1', 'collector-a');
        assert.deepEqual(await store.leases(), []);
        assert.equal(await store.acquireLease('vc1', 'collector-b', ttlSec, t0 + 2000), true, 'free at once, well before the ttl');
        await store.releaseLease('vc-unknown', 'collector-a');
      }));

    void it('keeps the leases of different vCenters apart, listed by vCenter id', () =>
      withSubject(open, async ({ store }) => {
        assert.equal(await store.acquireLease('vc-b', 'collector-a', ttlSec, t0), true);
        assert.equal(await store.acquireLease('vc-a', 'collector-b', 30, t0 + 5), true);
        assert.deepEqual(await store.leases(), [
          { vcenterId: 'vc-a', holderId: 'collector-b', acquiredMs: t0 + 5, expiresMs: t0 + 30_005 },
          { vcenterId: 'vc-b', holderId: 'collector-a', acquiredMs: t0, expiresMs: t0 + 60_000 },
        ]);
      }));

    void it('of two holders asking at once on two connections, gives it to exactly one', () =>
      withSubject(open, async ({ store, other }) => {
        const b = await other();
        for (let round = 0; round < 10; round++) {
          const vcenterId = `vc-race-${round}`;
          const [a, bGot] = await Promise.all([store.acquireLease(vcenterId, 'collector-a', ttlSec, t0), b.acquireLease(vcenterId, 'collector-b', ttlSec, t0)]);
          assert.equal(Number(a) + Number(bGot), 1, vcenterId);
          const [lease] = (await store.leases()).filter((l) => l.vcenterId === vcenterId);
          assert.equal(lease?.holderId, a ? 'collector-a' : 'collector-b');
        }
      }));

    void it('refuses a ttl that is not a positive number of seconds', () =>
      withSubject(open, async ({ store }) => {
        await assert.rejects(async () => store.acquireLease('vc1', 'collector-a', 0, t0), RangeError);
        await assert.rejects(async () => store.acquireLease('vc1', 'collector-a', Number.NaN, t0), RangeError);
        assert.deepEqual(await store.leases(), []);
      }));
  });
}
