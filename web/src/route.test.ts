// Run with: node --import tsx --test web/src/route.test.ts (pure; no browser needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRoute, parseRoute, rowPaths, type Route } from './route.ts';

const cases: readonly [string, string, Route][] = [
  ['empty hash is home', '', { view: 'home' }],
  ['root is home', '#/', { view: 'home' }],
  ['unknown path is home', '#/nope/x', { view: 'home' }],
  ['overview', '#/dc/dc-abc', { view: 'overview', dc: 'dc-abc' }],
  ['overview, explicit', '#/dc/dc-abc/overview', { view: 'overview', dc: 'dc-abc' }],
  [
    'vms with sort, dir and filter',
    '#/dc/dc-abc/vms?sort=cpuReadyPctPerVcpu&dir=desc&q=web',
    { view: 'vms', dc: 'dc-abc', sort: 'cpuReadyPctPerVcpu', dir: 'desc', q: 'web', open: [] },
  ],
  ['filer defaults', '#/dc/dc-abc/filer', { view: 'filer', dc: 'dc-abc', sort: null, dir: 'asc', q: '', open: [] }],
  ['hosts with open rows', '#/dc/dc-abc/hosts?open=h-1,h-2', { view: 'hosts', dc: 'dc-abc', sort: null, dir: 'asc', q: '', open: ['h-1', 'h-2'] }],
  ['bad dir is asc', '#/dc/d/vms?sort=name&dir=sideways', { view: 'vms', dc: 'd', sort: 'name', dir: 'asc', q: '', open: [] }],
  ['entity defaults to a day', '#/entity/vm-abc', { view: 'entity', id: 'vm-abc', period: 'day', from: null, to: null }],
  ['entity period', '#/entity/vm-abc?period=week', { view: 'entity', id: 'vm-abc', period: 'week', from: null, to: null }],
  ['entity zoom', '#/entity/vm-abc?period=month&from=100&to=200', { view: 'entity', id: 'vm-abc', period: 'month', from: 100, to: 200 }],
  ['backwards zoom is ignored', '#/entity/vm-abc?from=200&to=100', { view: 'entity', id: 'vm-abc', period: 'day', from: null, to: null }],
  ['unknown period is a day', '#/entity/vm-abc?period=decade', { view: 'entity', id: 'vm-abc', period: 'day', from: null, to: null }],
  ['encoded id', '#/entity/a%2Fb%40c', { view: 'entity', id: 'a/b@c', period: 'day', from: null, to: null }],
  ['filter text with spaces and markup', '#/dc/d/vms?q=%3Cimg+src%3Dx%3E+web', { view: 'vms', dc: 'd', sort: null, dir: 'asc', q: '<img src=x> web', open: [] }],
];

for (const [name, hash, route] of cases) {
  void test(`parseRoute: ${name}`, () => assert.deepEqual(parseRoute(hash), route));
  void test(`formatRoute round-trips: ${name}`, () => assert.deepEqual(parseRoute(formatRoute(route)), route));
}

void test('formatRoute writes the documented URLs', () => {
  assert.equal(
    formatRoute({ view: 'vms', dc: 'dc-1', sort: 'cpuReadyPctPerVcpu', dir: 'desc', q: 'web', open: [] }),
    '#/dc/dc-1/vms?sort=cpuReadyPctPerVcpu&dir=desc&q=web',
  );
  assert.equal(formatRoute({ view: 'entity', id: 'h-1', period: 'week', from: null, to: null }), '#/entity/h-1?period=week');
  assert.equal(formatRoute({ view: 'overview', dc: 'dc-1' }), '#/dc/dc-1');
});

test('rowPaths names the rows each view loads', () => {
  assert.deepEqual(rowPaths(parseRoute('#/dc/a%2Fb/vms?sort=name')), { hosts: null, vms: '/api/datacenters/a%2Fb/vms', datastores: null });
  assert.deepEqual(rowPaths(parseRoute('#/dc/d/hosts')), { hosts: '/api/datacenters/d/hosts', vms: null, datastores: null });
  assert.deepEqual(rowPaths(parseRoute('#/dc/d/filer')), { hosts: null, vms: null, datastores: '/api/datacenters/d/datastores' });
  assert.deepEqual(rowPaths(parseRoute('#/dc/d')), { hosts: '/api/datacenters/d/hosts', vms: '/api/datacenters/d/vms', datastores: '/api/datacenters/d/datastores' });
  assert.deepEqual(rowPaths(parseRoute('#/entity/vm-1')), { hosts: null, vms: null, datastores: null });
  assert.deepEqual(rowPaths(parseRoute('')), { hosts: null, vms: null, datastores: null });
});
