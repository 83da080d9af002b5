import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Scope } from '../shared/visibility.ts';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { sessionIdOf, Sessions, type ScopeSource, type SessionOptions } from './sessions.ts';

const vm = (value: string): { type: string; value: string } => ({ type: 'VirtualMachine', value });
const scopeOf = (...vms: string[]): Scope => Scope.of('vc', vms.map(vm), [{ type: 'Datacenter', value: 'datacenter-1' }]);

/** A person's vSphere session whose answer the test sets; counts its logouts. */
class TestSource implements ScopeSource {
  answer: Scope | Error;
  loggedOut = 0;
  asked = 0;
  constructor(answer: Scope | Error) {
    this.answer = answer;
  }
  scope(): Promise<Scope> {
    this.asked++;
    return this.answer instanceof Error ? Promise.reject(this.answer) : Promise.resolve(this.answer);
  }
  logout(): Promise<void> {
    this.loggedOut++;
    return Promise.resolve();
  }
}

function setUp(overrides: Partial<SessionOptions> = {}): { store: SqliteStore; clock: { nowMs: number }; sessions: (more?: Partial<SessionOptions>) => Sessions } {
  const store = openSqliteStore(':memory:');
  const clock = { nowMs: 1_000_000 };
  const sessions = (more: Partial<SessionOptions> = {}): Sessions =>
    new Sessions({ store, idleSec: 600, maxSec: 3600, refreshSec: 300, nowMs: () => clock.nowMs, log: pino({ level: 'silent' }), ...overrides, ...more });
  return { store, clock, sessions };
}

void test('Sessions: the store keeps the token hash, never the token; idle and absolute expiry', async () => {
  const { store, clock, sessions: make } = setUp({ refreshSec: 900 });
  const sessions = make();
  const { token, session } = await sessions.create('alice', 'vc', new TestSource(scopeOf('vm-1')), scopeOf('vm-1'));
  assert.equal(session.id, sessionIdOf(token));
  assert.notEqual(session.id, token);
  assert.equal(store.session(token), null, 'no row is keyed by the token');
  assert.equal(store.session(session.id)?.username, 'alice');
  assert.deepEqual(store.scope(session.scope.id)?.readable, session.scope.stored.readable);

  clock.nowMs += 599_000;
  assert.equal((await sessions.touch(token))?.username, 'alice', 'used within the idle time');
  clock.nowMs += 599_000;
  assert.ok(await sessions.touch(token), 'each use moves the idle deadline');
  clock.nowMs += 601_000;
  assert.equal(await sessions.touch(token), null, 'idle for longer than idleSec');
  assert.equal(store.session(session.id), null, 'and ended in the store');

  const second = await sessions.create('bob', 'vc', new TestSource(scopeOf('vm-2')), scopeOf('vm-2'));
  for (let i = 0; i < 6; i++) {
    clock.nowMs += 590_000;
    await sessions.refresh();
    assert.ok(await sessions.touch(second.token), `used every 590 s (${String(i)})`);
  }
  clock.nowMs += 590_000;
  assert.equal(await sessions.touch(second.token), null, 'past maxSec whatever its use');
  assert.equal(await sessions.touch('not-a-token'), null);
});

void test('Sessions: two front ends on one store share sessions; a logout on one ends it on the other', async () => {
  const { clock, sessions: make } = setUp();
  const frontA = make({ revalidateMs: 2000 });
  const frontB = make({ revalidateMs: 2000 });
  const source = new TestSource(scopeOf('vm-1', 'vm-2'));
  const { token } = await frontA.create('alice', 'vc', source, await source.scope());
  const onB = await frontB.touch(token);
  assert.equal(onB?.username, 'alice', 'a cookie from A works on B');
  assert.ok(onB.scope.canRead(Scope.of('vc', [vm('vm-2')], []).stored.readable[0] ?? ''), 'with the same scope');
  await frontB.end(onB.id);
  assert.equal(await frontB.touch(token), null);
  assert.ok(await frontA.touch(token), 'A trusts its copy for revalidateMs');
  clock.nowMs += 2000;
  assert.equal(await frontA.touch(token), null, 'then reads the store and finds it gone');
  await frontA.refresh();
  assert.equal(source.loggedOut, 1, 'A logs out the vSphere session it held');
});

void test('Sessions: refreshes what a person may see; a failing vCenter holds one more period, then the session ends', async () => {
  const { store, clock, sessions: make } = setUp({ refreshSec: 300 });
  const sessions = make({ revalidateMs: 0 });
  const source = new TestSource(scopeOf('vm-1'));
  const { token, session } = await sessions.create('alice', 'vc', source, await source.scope());
  const vm2 = Scope.of('vc', [vm('vm-2')], []).stored.readable[0] ?? '';

  clock.nowMs += 299_000;
  await sessions.refresh();
  assert.equal(source.asked, 1, 'not due yet');
  source.answer = scopeOf('vm-1', 'vm-2');
  clock.nowMs += 1000;
  await sessions.refresh();
  assert.equal(source.asked, 2, 'due after refreshSec');
  assert.ok((await sessions.touch(token))?.scope.canRead(vm2), 'the new permission shows');
  assert.notEqual(store.session(session.id)?.scopeId, session.scope.id, 'stored for every front end');

  source.answer = new Error('vCenter is down');
  clock.nowMs += 300_000;
  await sessions.refresh();
  assert.ok(await sessions.touch(token), 'the last answer holds one more period');
  clock.nowMs += 299_000;
  await sessions.refresh();
  assert.ok(await sessions.touch(token));
  clock.nowMs += 1000;
  assert.equal(await sessions.touch(token), null, 'two periods without an answer end the session');
  assert.equal(source.loggedOut, 1);
});

void test('Sessions: a person who may read nothing any more is logged out at the next refresh', async () => {
  const { store, clock, sessions: make } = setUp({ refreshSec: 60 });
  const sessions = make({ revalidateMs: 0 });
  const source = new TestSource(scopeOf('vm-1'));
  const { token, session } = await sessions.create('alice', 'vc', source, await source.scope());
  source.answer = Scope.of('vc', [], [{ type: 'Datacenter', value: 'datacenter-1' }]);
  clock.nowMs += 60_000;
  await sessions.refresh();
  assert.equal(await sessions.touch(token), null);
  assert.equal(store.session(session.id), null);
  assert.equal(source.loggedOut, 1);
  assert.equal(sessions.heldCount, 0);
});

void test('Sessions: a session whose stored scope is missing or altered ends (fail closed)', async () => {
  const { store, sessions: make } = setUp();
  const sessions = make({ revalidateMs: 0 });
  const { token, session } = await sessions.create('alice', 'vc', new TestSource(scopeOf('vm-1')), scopeOf('vm-1'));
  const other = make({ revalidateMs: 0 });
  // A front end that never saw the scope reads it from the store and checks it against its id:
  // a row whose content was changed (more VMs readable) does not match its id.
  store.saveScope({ ...session.scope.stored, id: 'forged-scope-id', readable: [...session.scope.stored.readable, 'vm-AAAAAAAAAAAAAA'] });
  store.setSessionScope(session.id, 'forged-scope-id', Date.now());
  assert.equal(await other.touch(token), null);
  assert.equal(store.session(session.id), null);
});
