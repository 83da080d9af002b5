// Capacity, Contention and Compare URLs. Pure; run with: node --import tsx --test web/src/route-insights.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareHref, entityRangeHref, formatRoute, parseRoute, rowPaths, type Route } from './route.ts';

const cases: readonly [string, string, Route][] = [
  ['capacity defaults to a month', '#/dc/d/capacity', { view: 'capacity', dc: 'd', period: 'month' }],
  ['capacity of a week', '#/dc/d/capacity?period=week', { view: 'capacity', dc: 'd', period: 'week' }],
  ['capacity has no year', '#/dc/d/capacity?period=year', { view: 'capacity', dc: 'd', period: 'month' }],
  ['contention defaults', '#/dc/d/contention', { view: 'contention', dc: 'd', period: 'week', metric: 'cpuReady', rankBy: 'peak' }],
  [
    'contention by time above, of ballooning, over a day',
    '#/dc/d/contention?period=day&metric=balloon&rankBy=timeAbove',
    { view: 'contention', dc: 'd', period: 'day', metric: 'balloon', rankBy: 'timeAbove' },
  ],
  ['contention: unknown metric and order fall back', '#/dc/d/contention?metric=x&rankBy=y', { view: 'contention', dc: 'd', period: 'week', metric: 'cpuReady', rankBy: 'peak' }],
  ['compare nothing yet', '#/dc/d/compare', { view: 'compare', dc: 'd', kind: 'vm', ids: [], metric: null, period: 'day', from: null, to: null }],
  [
    'compare hosts, zoomed',
    '#/dc/d/compare?kind=host&ids=h-1,h-2,h-1&metric=cpuUsedMhz&period=week&from=100&to=200',
    { view: 'compare', dc: 'd', kind: 'host', ids: ['h-1', 'h-2'], metric: 'cpuUsedMhz', period: 'week', from: 100, to: 200 },
  ],
  ['compare: bad kind and backwards zoom', '#/dc/d/compare?kind=nic&from=9&to=1', { view: 'compare', dc: 'd', kind: 'vm', ids: [], metric: null, period: 'day', from: null, to: null }],
];

for (const [name, hash, route] of cases) {
  void test(`parseRoute: ${name}`, () => assert.deepEqual(parseRoute(hash), route));
  void test(`formatRoute round-trips: ${name}`, () => assert.deepEqual(parseRoute(formatRoute(route)), route));
}

void test('links to a moment and to a comparison', () => {
  assert.equal(entityRangeHref('vm-1', 100, 200), '#/entity/vm-1?period=day&from=100&to=200');
  assert.equal(compareHref('d', 'vm', ['vm-1', 'vm-2'], 'cpuReadyMs', 'week'), '#/dc/d/compare?kind=vm&ids=vm-1%2Cvm-2&metric=cpuReadyMs&period=week');
});

void test('rowPaths: Compare loads the list it picks from, Capacity and Contention none', () => {
  assert.deepEqual(rowPaths(parseRoute('#/dc/d/compare?kind=vm')), { hosts: '/api/datacenters/d/hosts', vms: '/api/datacenters/d/vms', datastores: null });
  assert.deepEqual(rowPaths(parseRoute('#/dc/d/compare?kind=datastore')), { hosts: null, vms: null, datastores: '/api/datacenters/d/datastores' });
  assert.deepEqual(rowPaths(parseRoute('#/dc/d/capacity')), { hosts: null, vms: null, datastores: null });
  assert.deepEqual(rowPaths(parseRoute('#/dc/d/contention')), { hosts: null, vms: null, datastores: null });
});
