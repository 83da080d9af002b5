/**
 * The built UI served at / with SPA fallback; API paths never fall back to HTML; files outside
 * the web root stay unreachable.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLoopbackListen, parseListen } from '../src/server/app.ts';
import { downVcenter, testApp, type TestApp } from './fixtures/api-app.ts';

void describe('static UI', () => {
  let dir: string;
  let t: TestApp;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vscope-web-'));
    const web = join(dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>vscope</title>');
    writeFileSync(join(web, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
    t = testApp({ vcenters: [downVcenter], startMs: 0, config: { webRoot: web } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('index.html at /, assets cached for good, deep links fall back to index.html', async () => {
    const root = await t.app.inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 200);
    assert.match(root.body, /<title>vscope<\/title>/);
    assert.equal(root.headers['cache-control'], 'no-cache');
    assert.equal(root.headers['x-frame-options'], 'DENY');
    assert.match(String(root.headers['content-security-policy']), /default-src 'self'/);

    const asset = await t.app.inject({ method: 'GET', url: '/assets/app-1234.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, 'console.log(1)');
    assert.match(String(asset.headers['cache-control']), /immutable/);

    const deep = await t.app.inject({ method: 'GET', url: '/datacenters/dc-x/vms?sort=name' });
    assert.equal(deep.statusCode, 200);
    assert.match(deep.body, /<title>vscope<\/title>/);
  });

  void test('API paths never fall back to the page; traversal stays inside the web root', async () => {
    const api = await t.app.inject({ method: 'GET', url: '/api/nope' });
    assert.equal(api.statusCode, 404);
    assert.equal(api.json<{ error: { code: string } }>().error.code, 'not_found');
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const response = await t.app.inject({ method: 'GET', url });
      assert.ok(!response.body.includes('TOP SECRET'), url);
      assert.ok(response.statusCode < 500, url);
    }
  });

  void test('wrong methods on API routes are 405 with Allow', async () => {
    const response = await t.app.inject({ method: 'PUT', url: '/api/vcenters' });
    assert.equal(response.statusCode, 405);
    assert.match(String(response.headers.allow), /GET/);
    assert.equal(response.json<{ error: { code: string } }>().error.code, 'method_not_allowed');
  });
});

void describe('listen specs', () => {
  void test('parse', () => {
    assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen(':8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListen('10.0.0.5:443'), { host: '10.0.0.5', port: 443 });
    assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
    for (const bad of ['', 'abc', '8080:', '1.2.3.4:99999', 'host:port']) assert.throws(() => parseListen(bad), /not valid/, bad);
    assert.equal(isLoopbackListen('127.0.0.1:8080'), true);
    assert.equal(isLoopbackListen('[::1]:8080'), true);
    assert.equal(isLoopbackListen(':8080'), false);
    assert.equal(isLoopbackListen('10.0.0.5:8080'), false);
  });
});
