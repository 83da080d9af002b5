/**
 * Hostile input on every route, with and without a session: malformed ids, periods, ranges,
 * metric lists, huge and unicode strings, path traversal, wrong methods and bodies. No input may
 * cause a 5xx, and every error is a JSON `{ error: { code, message } }`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { testApp, type TestApp } from './fixtures/api-app.ts';
import { fillStore, ids, nowSec, t0 } from './fixtures/api-inventory.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ username: 'alice', password: 's3cret', vmsPerPool: 1 });

const huge = 'x'.repeat(100 * 1024);
const hugeUnicode = '💥é\u202e'.repeat(20 * 1024);

const badIds = [
  '',
  ' ',
  '..',
  '../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%00',
  '%ff',
  '%',
  'vm-',
  'vm-AAAAAAAAAAAAAA',
  'zz-AAAAAAAAAAAAAA',
  "vm-1' OR '1'='1",
  encodeURIComponent('💥'),
  encodeURIComponent(hugeUnicode.slice(0, 300)),
  huge,
  ids.dc2,
  ids.vm9,
];

const badQueries = [
  'period=',
  'period=DAY',
  'period=day%20',
  `period=${encodeURIComponent('日')}`,
  `period=${huge}`,
  'period=day&period=week',
  'period[]=day',
  'period[a]=day',
  'from=&to=',
  'from=NaN&to=Infinity',
  'from=1e9&to=2e9',
  'from=-1&to=5',
  `from=${String(t0)}&to=99999999999999999999999`,
  `from=${String(t0)}&to=${String(t0)}`,
  'from=0&to=1',
  `from=0&to=${String(nowSec)}`,
  'from=1.0&to=2.0',
  'metrics=',
  'metrics=,',
  'metrics=,,,',
  `metrics=${'cpuUsagePct,'.repeat(2000)}`,
  `metrics=${encodeURIComponent(hugeUnicode.slice(0, 2000))}`,
  `metrics=${huge}`,
  'metrics=__proto__',
  'metrics=constructor,toString',
  'removed=1',
  'removed=TRUE',
  'removed=true&removed=false',
  `removed=${huge}`,
  '%ff=%ff',
  '&&&==&',
];

const routeTemplates = [
  '/api/session',
  '/api/vcenters',
  '/api/datacenters',
  '/api/datacenters/:id/hosts',
  '/api/datacenters/:id/vms',
  '/api/datacenters/:id/datastores',
  '/api/entities/:id',
  '/api/entities/:id/series',
  '/api/status',
  '/api/openapi.json',
  '/healthz',
  '/metrics',
  '/api',
  '/api/',
  '/api/nope',
  '/api/datacenters/:id',
  '/api/entities/:id/series/extra',
  '/nope',
];

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const badBodies: { contentType: string; payload: string }[] = [
  { contentType: 'application/json', payload: '' },
  { contentType: 'application/json', payload: 'not json' },
  { contentType: 'application/json', payload: '{"username":' },
  { contentType: 'application/json', payload: '[]' },
  { contentType: 'application/json', payload: 'null' },
  { contentType: 'application/json', payload: '"alice"' },
  { contentType: 'application/json', payload: '42' },
  { contentType: 'application/json', payload: '{}' },
  { contentType: 'application/json', payload: '{"username":null,"password":null}' },
  { contentType: 'application/json', payload: '{"username":123,"password":["s3cret"]}' },
  { contentType: 'application/json', payload: '{"username":{"$ne":""},"password":{"$ne":""}}' },
  { contentType: 'application/json', payload: '{"__proto__":{"admin":true},"username":"alice","password":"x"}' },
  { contentType: 'application/json', payload: '{"constructor":{"prototype":{"admin":true}}}' },
  { contentType: 'application/json', payload: JSON.stringify({ username: huge, password: 'x' }) },
  { contentType: 'application/json', payload: JSON.stringify({ username: 'alice', password: huge }) },
  { contentType: 'application/json', payload: JSON.stringify({ username: hugeUnicode.slice(0, 200), password: hugeUnicode.slice(0, 500) }) },
  { contentType: 'application/json', payload: JSON.stringify({ username: 'alice', password: 'x', vcenter: huge.slice(0, 5000) }) },
  { contentType: 'application/json', payload: JSON.stringify({ username: 'alice', password: 'x', vcenter: '../../etc' }) },
  { contentType: 'application/json', payload: `${'['.repeat(5000)}${']'.repeat(5000)}` },
  { contentType: 'application/json', payload: 'x'.repeat(200 * 1024) },
  { contentType: 'text/plain', payload: 'username=alice&password=s3cret' },
  { contentType: 'application/x-www-form-urlencoded', payload: 'username=alice&password=s3cret' },
  { contentType: 'multipart/form-data; boundary=x', payload: '--x\r\n\r\n--x--' },
  { contentType: 'application/json; charset=utf-16', payload: '{}' },
  { contentType: '', payload: '{}' },
];

void describe('fuzz', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = testApp({ vcenters: [{ id: 'vc1', url: sim.current.url }], startMs: nowSec * 1000, fill: fillStore });
    cookie = await t.login();
  });
  after(async () => {
    await t.close();
  });

  let checked = 0;
  function check(request: InjectOptions, response: LightMyRequestResponse): void {
    checked++;
    const what = `${String(request.method)} ${(typeof request.url === 'string' ? request.url : '').slice(0, 120)} -> ${String(response.statusCode)}`;
    assert.ok(response.statusCode < 500, `${what}: ${response.body.slice(0, 300)}`);
    if (response.statusCode < 400 || request.method === 'HEAD') return;
    assert.match(String(response.headers['content-type']), /^application\/json/, what);
    const body = response.json<{ error?: { code?: unknown; message?: unknown } }>();
    assert.equal(typeof body.error?.code, 'string', what);
    assert.equal(typeof body.error?.message, 'string', what);
    assert.ok(String(body.error?.message).length <= 1000, `${what}: the error echoes a huge input`);
  }

  async function send(request: InjectOptions): Promise<void> {
    const response = await t.app.inject(request);
    check(request, response);
  }

  void test('malformed ids and queries on every route and method, with and without a session', async () => {
    for (const template of routeTemplates) {
      const paths = template.includes(':id') ? badIds.map((id) => template.replace(':id', id)) : [template];
      for (const path of paths) {
        for (const method of methods) {
          for (const headers of [{ cookie }, {}]) {
            await send({ method, url: path, headers });
          }
        }
        for (const query of badQueries) await send({ method: 'GET', url: `${path}?${query}`, headers: { cookie } });
      }
    }
    // The same queries on routes with real ids, where they reach validation.
    for (const path of [`/api/entities/${ids.vm1}/series`, `/api/entities/${ids.nic0}/series`, `/api/datacenters/${ids.dc1}/vms`]) {
      for (const query of badQueries) await send({ method: 'GET', url: `${path}?${query}`, headers: { cookie } });
    }
    assert.ok(checked > 2000, `${String(checked)} requests checked`);
  });

  void test('malformed bodies on every route that takes one, and on the others', async () => {
    for (const path of ['/api/session', '/api/datacenters', `/api/entities/${ids.vm1}`]) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        for (const { contentType, payload } of badBodies) {
          const headers: Record<string, string> = contentType === '' ? {} : { 'content-type': contentType };
          await send({ method, url: path, payload, headers });
        }
      }
    }
  });

  void test('hostile headers: huge or odd cookies, origins and hosts', async () => {
    const cases: Record<string, string>[] = [
      { cookie: `vscope_session=${huge}` },
      { cookie: 'vscope_session=%ff%00' },
      { cookie: 'vscope_session="quoted"; vscope_session=second' },
      { cookie: `${huge}=${huge}` },
      { origin: huge, host: 'localhost' },
      { origin: 'javascript:alert(1)' },
      { origin: 'http://[::1' },
      { host: huge },
      { 'content-type': `application/${huge}` },
    ];
    for (const headers of cases) {
      await send({ method: 'GET', url: '/api/datacenters', headers });
      await send({ method: 'POST', url: '/api/session', headers, payload: { username: 'alice', password: 'x' } });
      await send({ method: 'DELETE', url: '/api/session', headers });
    }
  });
});
