/**
 * Login, sessions, the failed-login limiter and the Origin check, against a simulator that
 * only accepts alice / s3cret (the real vSphere authenticator, no mock of vCenter).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { downVcenter, testApp, type TestApp } from './fixtures/api-app.ts';
import { fillStore, ids, nowSec } from './fixtures/api-inventory.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ username: 'alice', password: 's3cret', vmsPerPool: 1 });

/** Every route that needs a session, with a method and a valid-looking path. */
const protectedRoutes: readonly [string, string][] = [
  ['GET', '/api/session'],
  ['DELETE', '/api/session'],
  ['GET', '/api/datacenters'],
  ['GET', `/api/datacenters/${ids.dc1}/hosts`],
  ['GET', `/api/datacenters/${ids.dc1}/vms`],
  ['GET', `/api/datacenters/${ids.dc1}/datastores`],
  ['GET', `/api/entities/${ids.vm1}`],
  ['GET', `/api/entities/${ids.vm1}/series?period=day`],
  ['GET', '/api/status'],
  ['GET', '/api/openapi.json'],
];

void describe('login and sessions', () => {
  let t: TestApp;
  before(() => {
    t = testApp({ vcenters: [{ id: 'vc1', name: 'Lab', url: sim.current.url }], startMs: nowSec * 1000, fill: fillStore });
  });
  after(async () => {
    await t.close();
  });

  void test('good credentials open a session in a secure cookie', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice', password: 's3cret' } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { username: 'alice', vcenterId: 'vc1', expiresAtSec: nowSec + 8 * 3600 });
    const cookie = response.cookies.find((candidate) => candidate.name === 'vscope_session');
    assert.ok(cookie);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes in base64url');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');

    const who = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: `vscope_session=${cookie.value}` } });
    assert.equal(who.statusCode, 200);
    assert.equal(who.json<{ username: string }>().username, 'alice');
  });

  void test('two logins get different session ids; a login replaces the session it was sent with', async () => {
    const first = await t.login();
    const second = await t.login();
    assert.notEqual(first, second);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { cookie: first },
      payload: { username: 'alice', password: 's3cret' },
    });
    assert.equal(again.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: first } })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: second } })).statusCode, 200);
  });

  void test('a wrong password or username is a 401 that does not say which', async () => {
    const badPassword = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice', password: 'nope' } });
    const badUser = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'mallory', password: 's3cret' } });
    for (const response of [badPassword, badUser]) {
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['set-cookie'], undefined);
      assert.deepEqual(response.json(), { error: { code: 'invalid_credentials', message: 'The username or password is incorrect.' } });
    }
  });

  void test('an unknown vcenter is a 400 listing the configured ones', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice', password: 's3cret', vcenter: 'vc9' } });
    assert.equal(response.statusCode, 400);
    assert.match(response.json<{ error: { message: string } }>().error.message, /allowed: vc1/);
  });

  void test('every data route answers 401 JSON without a session, or with a made-up one', async () => {
    for (const cookie of [undefined, 'vscope_session=forged', `vscope_session=${'A'.repeat(43)}`]) {
      for (const [method, url] of protectedRoutes) {
        const response = await t.app.inject({ method: method as 'GET', url, headers: cookie ? { cookie } : {} });
        assert.equal(response.statusCode, 401, `${method} ${url}`);
        assert.equal(response.json<{ error: { code: string } }>().error.code, 'not_authenticated');
      }
    }
  });

  void test('public routes answer without a session', async () => {
    const vcenters = await t.app.inject({ method: 'GET', url: '/api/vcenters' });
    assert.equal(vcenters.statusCode, 200);
    assert.deepEqual(vcenters.json(), [{ id: 'vc1', name: 'Lab' }]);
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { ok: true });
  });

  void test('logout ends the session and clears the cookie', async () => {
    const cookie = await t.login();
    const out = await t.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
    assert.equal(out.statusCode, 204);
    const cleared = out.cookies.find((candidate) => candidate.name === 'vscope_session');
    assert.ok(cleared && cleared.value === '' && cleared.expires !== undefined && cleared.expires.getTime() <= Date.now());
    const after = await t.app.inject({ method: 'GET', url: '/api/datacenters', headers: { cookie } });
    assert.equal(after.statusCode, 401);
  });

  void test('passwords never reach the log', () => {
    const text = t.logs.join('');
    assert.ok(text.includes('"msg":"login"'), 'logins are logged');
    assert.ok(!text.includes('s3cret'), 'the good password is not logged');
    assert.ok(!text.includes('nope'), 'the bad password is not logged');
    assert.ok(!text.includes('vscope_session='), 'the cookie is not logged');
  });

  void test('one log line per request: method, path without query, status, ms', async () => {
    const before = t.logs.length;
    await t.app.inject({ method: 'GET', url: '/api/vcenters?token=abc' });
    const lines = t.logs.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.method, 'GET');
    assert.equal(line?.url, '/api/vcenters');
    assert.equal(line?.status, 200);
    assert.equal(typeof line?.ms, 'number');
  });
});

void describe('session expiry', () => {
  let t: TestApp;
  let loggedOut = 0;
  before(() => {
    t = testApp({
      vcenters: [{ id: 'vc1', url: sim.current.url }],
      startMs: nowSec * 1000,
      config: { sessionIdleSec: 600, sessionMaxSec: 3600 },
      // The real authenticator, counting the vSphere logouts it is asked for.
      wrapAuth: (real) => ({
        vcenters: () => real.vcenters(),
        async login(vcenterId, username, password) {
          const handle = await real.login(vcenterId, username, password);
          return {
            scope: () => handle.scope(),
            async logout() {
              loggedOut++;
              await handle.logout();
            },
          };
        },
      }),
    });
  });
  after(async () => {
    await t.close();
  });

  void test('an idle session expires; use keeps it alive', async () => {
    const used = await t.login();
    const idle = await t.login();
    t.advance(590_000);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: used } })).statusCode, 200);
    t.advance(20_000); // idle is now 610 s unused; used was seen 20 s ago
    assert.equal(loggedOut, 0);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: idle } })).statusCode, 401);
    assert.equal(loggedOut, 1, 'the expired session logged its vSphere session out');
    const alive = await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: used } });
    assert.equal(alive.statusCode, 200);
    assert.equal(alive.json<{ expiresAtSec: number }>().expiresAtSec, nowSec + 610 + 600);
  });

  void test('a session ends at its absolute expiry however much it is used', async () => {
    const cookie = await t.login();
    for (let i = 0; i < 6; i++) {
      t.advance(590_000);
      // What the person may see is asked again as the clock moves (the app's timer does it).
      await t.refreshScopes();
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } })).statusCode, 200, `after ${String(i + 1)} steps`);
    }
    t.advance(20_000); // 3560 s after login: still inside
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } })).statusCode, 200);
    t.advance(40_000); // 3600 s
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } })).statusCode, 401);
  });

  void test('logout logs the vSphere session out', async () => {
    const cookie = await t.login();
    const before = loggedOut;
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } })).statusCode, 204);
    assert.equal(loggedOut, before + 1);
  });
});

void describe('failed-login limiter', () => {
  let t: TestApp;
  before(() => {
    t = testApp({ vcenters: [{ id: 'vc1', url: sim.current.url }], startMs: nowSec * 1000 });
  });
  after(async () => {
    await t.close();
  });

  const attempt = (username: string, password: string, ip = '10.0.0.1') =>
    t.app.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });

  void test('5 failures per minute and username; the 6th attempt gets 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await attempt('bob', `wrong${String(i)}`, `10.0.1.${String(i)}`)).statusCode, 401);
      t.advance(1000);
    }
    // Other addresses, even with the right password: the username is locked for now.
    const blocked = await attempt('bob', 'whatever', '10.0.2.1');
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.json<{ error: { code: string } }>().error.code, 'too_many_attempts');
    // The first failure was 5 s ago: it leaves the window in 55 s.
    assert.equal(blocked.headers['retry-after'], '55');
    t.advance(54_000);
    assert.equal((await attempt('bob', 'x', '10.0.2.2')).statusCode, 429);
    t.advance(1_000);
    assert.equal((await attempt('bob', 'x', '10.0.2.3')).statusCode, 401, 'a minute later the username may try again');
  });

  void test('5 failures per minute and address, whatever the usernames', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await attempt(`user${String(i)}`, 'bad', '10.9.9.9')).statusCode, 401);
    const blocked = await attempt('alice', 's3cret', '10.9.9.9');
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.headers['retry-after'], '60');
    assert.equal((await attempt('alice', 's3cret', '10.9.9.10')).statusCode, 200, 'other addresses are not affected');
    t.advance(60_000);
    assert.equal((await attempt('alice', 's3cret', '10.9.9.9')).statusCode, 200);
  });
});

void describe('vCenter choice and outages', () => {
  let t: TestApp;
  before(() => {
    t = testApp({ vcenters: [downVcenter, { id: 'vc1', url: sim.current.url }], startMs: nowSec * 1000 });
  });
  after(async () => {
    await t.close();
  });

  void test('without a vcenter, each is tried in order until one accepts', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice', password: 's3cret' } });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json<{ vcenterId: string }>().vcenterId, 'vc1');
  });

  void test('an unreachable vCenter is a 503 naming it', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { username: 'alice', password: 's3cret', vcenter: 'down' },
    });
    assert.equal(response.statusCode, 503);
    const { error } = response.json<{ error: { code: string; message: string } }>();
    assert.equal(error.code, 'vcenter_unavailable');
    assert.match(error.message, /Down vCenter cannot be reached/);
  });

  void test('refused by one vCenter while another is down: 503, since the down one may know the user', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'alice', password: 'wrong' } });
    assert.equal(response.statusCode, 503);
  });
});

void describe('Origin check', () => {
  let t: TestApp;
  before(() => {
    t = testApp({ vcenters: [{ id: 'vc1', url: sim.current.url }], startMs: nowSec * 1000 });
  });
  after(async () => {
    await t.close();
  });

  void test('state-changing requests from another origin are refused', async () => {
    const login = { username: 'alice', password: 's3cret' };
    const foreign = await t.app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: 'vscope.example.com', origin: 'https://evil.example.net' },
      payload: login,
    });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json<{ error: { code: string } }>().error.code, 'forbidden_origin');
    const opaque = await t.app.inject({ method: 'POST', url: '/api/session', headers: { host: 'vscope.example.com', origin: 'null' }, payload: login });
    assert.equal(opaque.statusCode, 403);

    const same = await t.app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: 'vscope.example.com', origin: 'https://vscope.example.com' },
      payload: login,
    });
    assert.equal(same.statusCode, 200);
    const cookie = `vscope_session=${same.cookies[0]?.value ?? ''}`;

    const logoutForeign = await t.app.inject({
      method: 'DELETE',
      url: '/api/session',
      headers: { host: 'vscope.example.com', origin: 'https://evil.example.net', cookie },
    });
    assert.equal(logoutForeign.statusCode, 403);
    // Reads are not state-changing: a foreign Origin on GET is not refused by this check.
    const read = await t.app.inject({ method: 'GET', url: '/api/session', headers: { host: 'vscope.example.com', origin: 'https://evil.example.net', cookie } });
    assert.equal(read.statusCode, 200);
  });
});
