/**
 * The SessionStore contract: sessions and the content-addressed scopes they see, as every
 * process that serves a session reads them. Expected values are written out by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionStore, StoredScope, StoredSession } from '../store.ts';
import { vc1, vc2, vmAlpha, vmBeta, paris } from './fixtures.ts';
import { withSubject, type OpenSubject } from './subject.ts';

// Scope ids are content hashes in production; the store treats them as opaque keys.
const scopeOne: StoredScope = { id: 'scope-one', vcenterId: vc1, readable: [vmAlpha, vmBeta], viewOnly: [paris] };
const scopeTwo: StoredScope = { id: 'scope-two', vcenterId: vc1, readable: [vmBeta], viewOnly: [] };
const scopeThree: StoredScope = { id: 'scope-three', vcenterId: vc2, readable: [], viewOnly: [] };

function session(id: string, scopeId: string, times: { createdMs?: number; lastSeenMs?: number; scopeCheckedMs?: number } = {}): StoredSession {
  return {
    id, username: `user-${id}@vsphere.local`, vcenterId: vc1,
    createdMs: times.createdMs ?? 10_000, lastSeenMs: times.lastSeenMs ?? 10_000, scopeId, scopeCheckedMs: times.scopeCheckedMs ?? 10_000,
  };
}

export function sessionStoreContract(name: string, open: OpenSubject<SessionStore>): void {
  void describe(`SessionStore contract: ${name}`, () => {
    void it('saves, reads and replaces sessions; an unknown id reads null', () =>
      withSubject(open, async ({ store }) => {
        await store.saveScope(scopeOne);
        await store.saveScope(scopeTwo);
        await store.saveSession(session('a', 'scope-one'));
        assert.deepEqual(await store.session('a'), {
          id: 'a', username: 'user-a@vsphere.local', vcenterId: vc1, createdMs: 10_000, lastSeenMs: 10_000, scopeId: 'scope-one', scopeCheckedMs: 10_000,
        });
        await store.saveSession({ ...session('a', 'scope-two', { createdMs: 20_000, lastSeenMs: 21_000, scopeCheckedMs: 22_000 }), username: 'Other', vcenterId: vc2 });
        assert.deepEqual(await store.session('a'), {
          id: 'a', username: 'Other', vcenterId: vc2, createdMs: 20_000, lastSeenMs: 21_000, scopeId: 'scope-two', scopeCheckedMs: 22_000,
        });
        assert.equal(await store.session('unknown'), null);
      }));

    void it('moves a session\'s last use forward, never back', () =>
      withSubject(open, async ({ store }) => {
        await store.saveScope(scopeOne);
        await store.saveSession(session('a', 'scope-one'));
        await store.touchSession('a', 15_000);
        assert.equal((await store.session('a'))?.lastSeenMs, 15_000);
        await store.touchSession('a', 12_000);
        assert.equal((await store.session('a'))?.lastSeenMs, 15_000);
        await store.touchSession('unknown', 99_000);
        assert.equal(await store.session('unknown'), null, 'touching an unknown id creates nothing');
      }));

    void it('changes a session\'s scope and when it was checked', () =>
      withSubject(open, async ({ store }) => {
        await store.saveScope(scopeOne);
        await store.saveScope(scopeTwo);
        await store.saveSession(session('a', 'scope-one'));
        await store.setSessionScope('a', 'scope-two', 30_000);
        const changed = await store.session('a');
        assert.deepEqual([changed?.scopeId, changed?.scopeCheckedMs, changed?.lastSeenMs], ['scope-two', 30_000, 10_000]);
      }));

    void it('ends a session for every connection; ending it twice is harmless', () =>
      withSubject(open, async ({ store, other }) => {
        const frontB = await other();
        await store.saveScope(scopeOne);
        await store.saveSession(session('a', 'scope-one'));
        assert.equal((await frontB.session('a'))?.username, 'user-a@vsphere.local', 'a session saved on one front end is read on another');
        await frontB.deleteSession('a');
        assert.equal(await store.session('a'), null, 'a logout on one front end ends it on the other');
        await store.deleteSession('a');
        assert.equal(await frontB.session('a'), null);
      }));

    void it('sweeps sessions past any bound (strictly before it), returns how many, and drops the scopes no session uses', () =>
      withSubject(open, async ({ store, other }) => {
        for (const scope of [scopeOne, scopeTwo, scopeThree]) await store.saveScope(scope);
        await store.saveSession(session('fine', 'scope-one', { createdMs: 1000, lastSeenMs: 5000, scopeCheckedMs: 5000 }));
        await store.saveSession(session('idle', 'scope-two', { createdMs: 1000, lastSeenMs: 2999, scopeCheckedMs: 5000 }));
        await store.saveSession(session('old', 'scope-one', { createdMs: 799, lastSeenMs: 5000, scopeCheckedMs: 5000 }));
        await store.saveSession(session('unchecked', 'scope-two', { createdMs: 1000, lastSeenMs: 5000, scopeCheckedMs: 2499 }));
        await store.saveSession(session('edge', 'scope-one', { createdMs: 800, lastSeenMs: 3000, scopeCheckedMs: 2500 }));
        const bounds = { idleBeforeMs: 3000, createdBeforeMs: 800, checkedBeforeMs: 2500 };
        assert.equal(await store.deleteExpiredSessions(bounds), 3);
        for (const [id, kept] of [['fine', true], ['idle', false], ['old', false], ['unchecked', false], ['edge', true]] as const) {
          assert.equal((await store.session(id)) !== null, kept, id);
        }
        assert.deepEqual(await store.scope('scope-one'), scopeOne, 'still used');
        assert.equal(await store.scope('scope-two'), null, 'its sessions went');
        assert.equal(await store.scope('scope-three'), null, 'never used');
        const elsewhere = await other();
        assert.equal(await elsewhere.session('idle'), null);
        assert.equal(await elsewhere.deleteExpiredSessions(bounds), 0);
      }));

    void it('keeps scopes immutable: saving an id again leaves its first content', () =>
      withSubject(open, async ({ store, other }) => {
        await store.saveScope(scopeOne);
        await store.saveScope({ ...scopeOne, readable: [vmBeta], viewOnly: [] });
        assert.deepEqual(await store.scope('scope-one'), { id: 'scope-one', vcenterId: vc1, readable: [vmAlpha, vmBeta], viewOnly: [paris] });
        assert.deepEqual(await (await other()).scope('scope-one'), scopeOne);
        assert.equal(await store.scope('unknown'), null);
      }));
  });
}
