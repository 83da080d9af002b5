/**
 * The LoginLimiterStore contract: failed logins per key in a sliding window, shared by every
 * front end (the rule of server/sessions.ts FailureLimiter). Expected waits are worked out by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoginFailureWindow, LoginLimiterStore } from '../store.ts';
import { withSubject, type OpenSubject } from './subject.ts';

/** 3 failures a minute. */
const window: LoginFailureWindow = { limit: 3, windowMs: 60_000 };
const t0 = 1_000_000_000;

export function loginLimiterStoreContract(name: string, open: OpenSubject<LoginLimiterStore>): void {
  void describe(`LoginLimiterStore contract: ${name}`, () => {
    void it('lets a key fail limit - 1 times, then makes it wait until its oldest failure leaves the window', () =>
      withSubject(open, async ({ store }) => {
        const key = 'user:alice';
        assert.equal(await store.loginRetryAfterSec(key, window, t0), 0);
        await store.recordLoginFailure(key, window, t0);
        await store.recordLoginFailure(key, window, t0 + 10_000);
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 10_000), 0);
        await store.recordLoginFailure(key, window, t0 + 20_000);
        // The oldest (t0) leaves the window at t0 + 60 s: 40 s from now.
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 20_000), 40);
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 59_000), 1);
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 59_999), 1, 'rounded up');
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 60_000), 0, 'a failure exactly a window ago no longer counts');
      }));

    void it('slides: the limit-th newest failure decides the wait', () =>
      withSubject(open, async ({ store }) => {
        const key = 'ip:192.0.2.7';
        for (const offset of [0, 10_000, 20_000, 30_000, 40_000]) await store.recordLoginFailure(key, window, t0 + offset);
        // Newest three: +20 s, +30 s, +40 s; +20 s leaves at +80 s.
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 40_000), 40);
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 75_000), 5);
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 80_000), 0);
        // Two failures in the window, one more blocks again until +30 s leaves (at +90 s).
        await store.recordLoginFailure(key, window, t0 + 85_000);
        assert.equal(await store.loginRetryAfterSec(key, window, t0 + 85_000), 5);
      }));

    void it('keeps keys apart; clearing one forgets only it', () =>
      withSubject(open, async ({ store }) => {
        for (const key of ['user:alice', 'user:bob']) {
          for (const offset of [0, 1, 2]) await store.recordLoginFailure(key, window, t0 + offset);
        }
        await store.recordLoginFailure('user:carol', window, t0);
        await store.clearLoginFailures('user:alice');
        assert.equal(await store.loginRetryAfterSec('user:alice', window, t0 + 10), 0);
        assert.equal(await store.loginRetryAfterSec('user:bob', window, t0 + 10), 60);
        assert.equal(await store.loginRetryAfterSec('user:carol', window, t0 + 10), 0);
        await store.clearLoginFailures('user:nobody');
      }));

    void it('counts failures recorded at once by two front ends', () =>
      withSubject(open, async ({ store, other }) => {
        const frontB = await other();
        await Promise.all([
          store.recordLoginFailure('user:dave', window, t0),
          frontB.recordLoginFailure('user:dave', window, t0 + 1),
          store.recordLoginFailure('user:dave', window, t0 + 2),
        ]);
        assert.equal(await frontB.loginRetryAfterSec('user:dave', window, t0 + 1000), 59);
        assert.equal(await store.loginRetryAfterSec('user:dave', window, t0 + 1000), 59);
      }));

    void it('prunes keys that left the window, then the least recently failed past the cap', () =>
      withSubject(open, async ({ store }) => {
        await store.recordLoginFailure('old', window, t0);
        for (const [key, atMs] of [['k1', t0 + 100_000], ['k2', t0 + 110_000], ['k3', t0 + 120_000]] as const) {
          for (const offset of [0, 1, 2]) await store.recordLoginFailure(key, window, atMs + offset);
        }
        assert.equal(await store.pruneLoginFailures(t0 + 60_000, 2), 2, '"old" left the window, k1 is past the cap');
        const now = t0 + 120_010;
        assert.equal(await store.loginRetryAfterSec('k1', window, now), 0, 'pruned');
        assert.equal(await store.loginRetryAfterSec('k2', window, now), 50);
        assert.equal(await store.loginRetryAfterSec('k3', window, now), 60);
        assert.equal(await store.pruneLoginFailures(t0 + 60_000, 2), 0);
        assert.equal(await store.pruneLoginFailures(t0 + 200_000, 10), 2, 'every key left the window');
        assert.equal(await store.loginRetryAfterSec('k3', window, now), 0);
      }));

    void it('refuses a window without a positive integer limit', () =>
      withSubject(open, async ({ store }) => {
        await assert.rejects(async () => store.recordLoginFailure('k', { limit: 0, windowMs: 60_000 }, t0), RangeError);
        await assert.rejects(async () => store.loginRetryAfterSec('k', { limit: 3, windowMs: 0 }, t0), RangeError);
      }));
  });
}
