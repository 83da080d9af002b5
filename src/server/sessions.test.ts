import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureLimiter, SessionStore } from './sessions.ts';

void test('FailureLimiter: a sliding window per key', () => {
  let nowMs = 0;
  const limiter = new FailureLimiter(3, 60_000, () => nowMs);
  for (const atMs of [0, 10_000, 20_000]) {
    nowMs = atMs;
    assert.equal(limiter.retryAfterSec('k'), 0);
    limiter.fail('k');
  }
  assert.equal(limiter.retryAfterSec('k'), 40, 'the failure at 0 leaves the window at 60 s');
  assert.equal(limiter.retryAfterSec('other'), 0);
  nowMs = 59_500;
  assert.equal(limiter.retryAfterSec('k'), 1, 'never 0 while blocked');
  nowMs = 60_000;
  assert.equal(limiter.retryAfterSec('k'), 0);
  limiter.fail('k');
  assert.equal(limiter.retryAfterSec('k'), 10, 'now the failure at 10 s is the oldest of the last 3');
  limiter.clear('k');
  assert.equal(limiter.retryAfterSec('k'), 0);
});

void test('FailureLimiter: memory stays bounded under a flood of keys', () => {
  const limiter = new FailureLimiter(1, 60_000, () => 0, 100);
  for (let i = 0; i < 1000; i++) limiter.fail(`flood-${String(i)}`);
  assert.equal(limiter.retryAfterSec('flood-999'), 60, 'recent keys are kept');
  assert.equal(limiter.retryAfterSec('flood-0'), 0, 'the oldest keys were dropped');
});

void test('SessionStore: ends expired sessions once, on lookup or at the next login', () => {
  let nowMs = 0;
  const ended: string[] = [];
  const sessions = new SessionStore({ idleSec: 10, maxSec: 100, nowMs: () => nowMs, onEnd: (session) => ended.push(session.username) });
  const handle = { logout: () => Promise.resolve() };
  const a = sessions.create('a', 'vc', handle);
  sessions.create('b', 'vc', handle);
  assert.notEqual(a.id, sessions.create('c', 'vc', handle).id);
  nowMs = 9_000;
  assert.equal(sessions.touch(a.id)?.username, 'a');
  nowMs = 12_000; // b and c idle for 12 s; a for 3 s
  sessions.create('d', 'vc', handle);
  assert.deepEqual(ended.sort(), ['b', 'c']);
  assert.equal(sessions.size, 2);
  assert.equal(sessions.touch('unknown'), null);
  sessions.end(a.id);
  sessions.end(a.id);
  assert.deepEqual(ended.filter((name) => name === 'a'), ['a'], 'ended once');
});
