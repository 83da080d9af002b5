/**
 * The SampleStateStore contract: per-entity high-water marks and open 5-minute buckets, kept
 * beside the inventory for samples kept in an engine. Expected values are written out by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostMetrics, vmMetrics } from '../../shared/metrics.ts';
import type { Rollup } from '../../shared/rollup.ts';
import type { EntitySampleState, InventoryStore, SampleStateStore } from '../store.ts';
import { hostParis, vc1, vc1Snapshot, vc2, vc2Snapshot, vmAlpha, vmBerlin, vmBeta } from './fixtures.ts';
import { nextTurn, versionOf, withSubject, type OpenSubject } from './subject.ts';

export type SampleStateSubjectStore = SampleStateStore & InventoryStore;

/** `width` rollups, null but for the given positions. Values are exact in hundredths (what buckets keep). */
function rollups(width: number, given: Readonly<Record<number, Rollup>>): (Rollup | null)[] {
  return Array.from({ length: width }, (_, i) => given[i] ?? null);
}

const unknownVm = 'vm-unknown0000000';

function sorted(states: ReadonlyMap<string, EntitySampleState>): [string, EntitySampleState][] {
  return [...states].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function sampleStateStoreContract(name: string, open: OpenSubject<SampleStateSubjectStore>): void {
  void describe(`SampleStateStore contract: ${name}`, () => {
    void it('knows the inventory\'s entities, with no state before the first save; unknown ids are absent', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        assert.deepEqual(sorted(await store.sampleStates([vmBeta, unknownVm, hostParis])), sorted(new Map([
          [vmBeta, { entityId: vmBeta, kind: 'vm', highWaterSec: null, openBucket: null }],
          [hostParis, { entityId: hostParis, kind: 'host', highWaterSec: null, openBucket: null }],
        ])));
        assert.equal((await store.sampleStates([])).size, 0);
      }));

    void it('saves marks and open buckets and reads them back exactly; a mark never moves back; a null bucket clears it', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        const vmBucket = rollups(vmMetrics.length, { 0: { sum: 30.5, count: 3, min: 5.25, max: 15 }, 3: { sum: -4, count: 2, min: -3, max: -1 } });
        const hostBucket = rollups(hostMetrics.length, { 1: { sum: 1500, count: 15, min: 100, max: 100 } });
        await store.saveSampleStates([
          { entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: { startSec: 1200, rollups: vmBucket } },
          { entityId: hostParis, kind: 'host', highWaterSec: 1280, openBucket: { startSec: 1200, rollups: hostBucket } },
        ]);
        assert.deepEqual(sorted(await store.sampleStates([vmBeta, hostParis, vmAlpha])), sorted(new Map([
          [vmBeta, { entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: { startSec: 1200, rollups: vmBucket } }],
          [hostParis, { entityId: hostParis, kind: 'host', highWaterSec: 1280, openBucket: { startSec: 1200, rollups: hostBucket } }],
          [vmAlpha, { entityId: vmAlpha, kind: 'vm', highWaterSec: null, openBucket: null }],
        ])));
        // An older mark: the stored one holds; the bucket is replaced all the same.
        const later = rollups(vmMetrics.length, { 0: { sum: 7, count: 1, min: 7, max: 7 } });
        await store.saveSampleStates([{ entityId: vmBeta, kind: 'vm', highWaterSec: 1200, openBucket: { startSec: 1500, rollups: later } }]);
        assert.deepEqual((await store.sampleStates([vmBeta])).get(vmBeta), { entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: { startSec: 1500, rollups: later } });
        // No mark keeps the stored one; no bucket clears it.
        await store.saveSampleStates([{ entityId: vmBeta, kind: 'vm', highWaterSec: null, openBucket: null }]);
        assert.deepEqual((await store.sampleStates([vmBeta])).get(vmBeta), { entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: null });
        await store.saveSampleStates([{ entityId: vmBeta, kind: 'vm', highWaterSec: 1620, openBucket: null }]);
        assert.equal((await store.sampleStates([vmBeta])).get(vmBeta)?.highWaterSec, 1620);
      }));

    void it('skips entities the inventory never saw', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        await store.saveSampleStates([
          { entityId: unknownVm, kind: 'vm', highWaterSec: 1300, openBucket: null },
          { entityId: vmAlpha, kind: 'vm', highWaterSec: 1320, openBucket: null },
        ]);
        assert.equal((await store.sampleStates([unknownVm])).size, 0);
        assert.deepEqual([...(await store.highWaterMarks(vc1))], [[vmAlpha, 1320]]);
      }));

    void it('saves a list all or nothing', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        await assert.rejects(async () => {
          await store.saveSampleStates([
            { entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: null },
            // Not a list of rollups: this state cannot be stored, so neither is the first.
            { entityId: vmAlpha, kind: 'vm', highWaterSec: 1300, openBucket: { startSec: 1200, rollups: null as unknown as Rollup[] } },
          ]);
        });
        assert.deepEqual((await store.sampleStates([vmBeta])).get(vmBeta), { entityId: vmBeta, kind: 'vm', highWaterSec: null, openBucket: null });
        assert.equal((await store.highWaterMarks(vc1)).size, 0);
      }));

    void it('gives the marks of one vCenter\'s entities that have one', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        await store.saveInventory(vc2Snapshot(1000));
        await store.saveSampleStates([
          { entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: null },
          { entityId: hostParis, kind: 'host', highWaterSec: 1280, openBucket: null },
          { entityId: vmBerlin, kind: 'vm', highWaterSec: 1900, openBucket: null },
        ]);
        assert.deepEqual(new Map(await store.highWaterMarks(vc1)), new Map([[vmBeta, 1300], [hostParis, 1280]]));
        assert.deepEqual(new Map(await store.highWaterMarks(vc2)), new Map([[vmBerlin, 1900]]));
        assert.equal((await store.highWaterMarks('vc3.example')).size, 0);
      }));

    void it('moves dataVersion with every save, and another connection reads what was saved', () =>
      withSubject(open, async ({ store, other }) => {
        await store.saveInventory(vc1Snapshot(1000));
        const elsewhere = await other();
        const before = await versionOf(store);
        const beforeElsewhere = await versionOf(elsewhere);
        await store.saveSampleStates([{ entityId: vmBeta, kind: 'vm', highWaterSec: 1300, openBucket: null }]);
        assert.notEqual(await versionOf(store), before);
        await nextTurn();
        assert.notEqual(await versionOf(elsewhere), beforeElsewhere);
        assert.equal((await elsewhere.sampleStates([vmBeta])).get(vmBeta)?.highWaterSec, 1300);
      }));
  });
}
