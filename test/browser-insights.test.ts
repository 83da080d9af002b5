/// <reference lib="dom" />
/**
 * Capacity, Contention and Compare in a real browser (Debian Chromium) against `vscope serve`
 * on a simulator, after its first cycle (an hour of realtime samples and vCenter's history
 * imported): rows equal the API's, a contention row opens the VM's graphs around its peak,
 * Compare draws the chosen VMs and its URL reproduces the chart. Screenshots land in
 * test-results/screenshots (insights-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CapacityResponse, CompareResponse, ContentionResponse, DatacenterRow, HostRow, VmRow } from '../src/shared/api.ts';
import { graphRangeAround } from '../src/shared/insights.ts';
import { apiLogin, type ApiClient } from './support/api-client.ts';
import { launchBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { testLogin, useStack } from './support/stack.ts';

const stack = useStack({ datacenters: 1, clusters: 1, hostsPerCluster: 3, standaloneHosts: 1, vmsPerPool: 4, datastores: 2 });
let browser: BrowserSession;
let page: Page;
let api: ApiClient;
let dc: DatacenterRow;

before(async () => {
  await stack.ready;
  browser = await launchBrowser();
  page = await browser.newPage();
  api = await apiLogin(stack.current.vscope.url, testLogin.username, testLogin.password);
  const [first] = await api.get<DatacenterRow[]>('/api/datacenters');
  if (!first) throw new Error('no datacenter after the first cycle');
  dc = first;
  await page.goto(stack.current.vscope.url);
  await page.getByTestId('login-username').fill(testLogin.username);
  await page.getByTestId('login-password').fill(testLogin.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('user-name').waitFor();
});

after(async () => {
  await browser?.close();
});

const url = (hash: string): string => `${stack.current.vscope.url}/${hash}`;

/** The data-id of each body row of a table, in order. */
async function rowIds(testId: string): Promise<string[]> {
  return page.locator(`[data-testid="${testId}"] tbody tr[data-id]`).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));
}

async function waitForRows(testId: string, count: number): Promise<void> {
  await page.waitForFunction(({ id, n }) => document.querySelectorAll(`[data-testid="${id}"] tbody tr[data-id]`).length === n, { id: testId, n: count });
}

/** Waits until the chart with this test id has drawn points. */
async function chartHasData(testIdPrefix: string): Promise<void> {
  await page.waitForFunction(
    (prefix) =>
      Array.from(document.querySelectorAll(`[data-testid^="${prefix}"]`)).some(
        (chart) => chart.querySelector('canvas') !== null && Number(chart.getAttribute('data-points') ?? '0') > 0,
      ),
    testIdPrefix,
  );
}

test('Capacity lists the datastores, clusters, hosts and VM hints the API gives, and says its buckets', async () => {
  const capacity = await api.get<CapacityResponse>(`/api/datacenters/${dc.id}/capacity?period=week`);
  assert.equal(capacity.vms.progress, null, 'the simulator is small: the analyses are ready at once');
  await page.getByTestId('nav-capacity').click();
  await page.getByTestId('capacity-view').waitFor();
  assert.match(await page.evaluate(() => location.hash), /capacity\?period=month/);
  await page.locator('[data-testid="period-select"] button[data-period="week"]').click();
  await page.waitForFunction(() => location.hash.includes('period=week'));
  await waitForRows('capacity-datastore-table', capacity.datastores.rows.length);
  assert.deepEqual((await rowIds('capacity-datastore-table')).sort(), capacity.datastores.rows.map((row) => row.id).sort());
  assert.deepEqual((await rowIds('capacity-cluster-table')).sort(), capacity.clusters.rows.map((row) => row.clusterId).sort());
  await waitForRows('capacity-host-table', capacity.hosts.rows.length);
  assert.deepEqual((await rowIds('capacity-host-table')).sort(), capacity.hosts.rows.map((row) => row.hostId).sort());
  if (capacity.vms.rows.length === 0) await page.getByTestId('capacity-no-hint').waitFor();
  else {
    await waitForRows('capacity-hint-table', capacity.vms.rows.length);
    assert.deepEqual((await rowIds('capacity-hint-table')).sort(), capacity.vms.rows.map((row) => row.id).sort());
  }
  // Each datastore's forecast and each cluster's N+1 are shown in words.
  const first = capacity.datastores.rows[0];
  assert.ok(first);
  assert.match(await page.locator(`[data-testid="capacity-datastore-table"] tr[data-id="${first.id}"] [data-testid="days-until-full"]`).innerText(), /\d+ d|Not filling|Full|Not enough data/);
  assert.match(await page.getByTestId('capacity-clusters').innerText(), /Holds|Fails|No data/);
  assert.match(await page.getByTestId('capacity-vms-window').innerText(), /30 min buckets from \d{4}-\d\d-\d\d \d\d:\d\d to /);
  assert.match(await page.getByTestId('capacity-vms-summary').innerText(), new RegExp(`${String(capacity.vms.analysed)} VMs looked at`));
  await screenshot(page, 'insights-capacity');
});

test('Contention ranks the VMs as the API does; a row opens the VM graphs around its peak', async () => {
  const ranking = await api.get<ContentionResponse>(`/api/datacenters/${dc.id}/contention?period=week&metric=cpuReady&rankBy=peak`);
  assert.ok(ranking.rows.length > 0, `the simulator's CPU ready ranks some VMs: ${JSON.stringify(ranking).slice(0, 300)}`);
  await page.getByTestId('nav-contention').click();
  await page.getByTestId('contention-view').waitFor();
  await waitForRows('contention-table', ranking.rows.length);
  assert.deepEqual(await rowIds('contention-table'), ranking.rows.map((row) => row.vmId), 'same VMs, same order');
  assert.match(await page.getByTestId('contention-window').innerText(), /30 min buckets/);
  const sharedHosts = await page.locator('[data-testid="contention-shared-hosts"] tr[data-id]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
  assert.deepEqual(sharedHosts, ranking.shared.hosts.map((place) => place.id));
  await screenshot(page, 'insights-contention');

  // By time above: the API's order again.
  const byTime = await api.get<ContentionResponse>(`/api/datacenters/${dc.id}/contention?period=week&metric=cpuReady&rankBy=timeAbove`);
  await page.locator('[data-testid="contention-rank-by"] button[data-rank-by="timeAbove"]').click();
  await page.waitForFunction(() => location.hash.includes('rankBy=timeAbove'));
  await page.waitForFunction((first) => document.querySelector('[data-testid="contention-table"] tbody tr[data-id]')?.getAttribute('data-id') === first, byTime.rows[0]?.vmId ?? '');
  assert.deepEqual(await rowIds('contention-table'), byTime.rows.map((row) => row.vmId));

  // The worst VM's graphs, around its peak.
  const worst = byTime.rows[0];
  assert.ok(worst);
  const range = graphRangeAround(worst.peakBucketSec, byTime.window.stepSec, byTime.nowSec);
  await page.locator(`[data-testid="contention-table"] tr[data-id="${worst.vmId}"] [data-testid="contention-graph-link"]`).click();
  await page.getByTestId('entity-view').waitFor();
  assert.equal(await page.getByTestId('entity-name').innerText(), worst.name);
  const hash = await page.evaluate(() => location.hash);
  assert.ok(hash.includes(`from=${String(range.fromSec)}`) && hash.includes(`to=${String(range.toSec)}`), hash);
  await chartHasData('chart-cpu-ready');
  await screenshot(page, 'insights-contention-graph');
});

test('a metric the simulator does not collect says so', async () => {
  await page.goto(url(`#/dc/${dc.id}/contention?period=day&metric=balloon&rankBy=peak`));
  const reason = page.getByTestId('contention-reason');
  await reason.waitFor();
  assert.match(await reason.innerText(), /No VM has memory ballooned figures|Every VM stayed at 0/);
  assert.equal(await page.getByTestId('contention-metric').inputValue(), 'balloon');
  await screenshot(page, 'insights-contention-not-collected');
});

test('Compare puts the chosen VMs on one chart; the URL reproduces it, zoom included', async () => {
  const vms = (await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`)).filter((vm) => vm.powerState === 'poweredOn' && !vm.isTemplate);
  const hosts = await api.get<HostRow[]>(`/api/datacenters/${dc.id}/hosts`);
  const host = hosts.find((candidate) => candidate.vms > 1);
  assert.ok(host && vms.length >= 3);
  // The VM list comes late (a slow network): a host picked meanwhile must not add nothing.
  const vmList = '**/api/datacenters/*/vms';
  await page.route(vmList, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.getByTestId('nav-compare').click();
  await page.getByTestId('compare-view').waitFor();
  await page.getByTestId('compare-empty').waitFor();
  // The VMs of a host, then one more by hand.
  await page.getByTestId('compare-host-vms').selectOption(host.id);
  await page.unroute(vmList);
  const ofHost = vms.filter((vm) => vm.hostId === host.id).map((vm) => vm.id);
  const extra = vms.find((vm) => vm.hostId !== host.id);
  assert.ok(extra);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="compare-chosen"] li[data-id]').length === n, ofHost.length);
  await page.locator(`[data-testid="compare-candidates"] li[data-id="${extra.id}"] input`).check();
  const chosen = [...ofHost, extra.id];
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="compare-chosen"] li[data-id]').length === n, chosen.length);
  await page.getByTestId('compare-metric').selectOption('cpuUsagePct');
  await chartHasData('compare-chart');
  const legend = await page.locator('[data-testid="compare-chart"] .u-legend').innerText();
  for (const id of chosen) {
    const name = vms.find((vm) => vm.id === id)?.name ?? '';
    assert.ok(legend.includes(name), `${name} in the legend`);
  }
  const compare = await api.get<CompareResponse>(`/api/compare?ids=${chosen.join(',')}&metric=cpuUsagePct&period=day`);
  const points = compare.series.reduce((total, series) => total + series.avg.filter((value) => value !== null).length, 0);
  assert.equal(Number(await page.getByTestId('compare-chart').getAttribute('data-points')), points, 'every average the API gives is drawn');
  await screenshot(page, 'insights-compare');

  // Drag to zoom: the URL takes the range; opened again, it draws the same chart.
  const over = page.locator('[data-testid="compare-chart"] .u-over');
  const box = await over.boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => /from=\d+/.test(location.hash) && /to=\d+/.test(location.hash));
  const zoomed = await page.evaluate(() => location.hash);
  assert.match(zoomed, new RegExp(`ids=${chosen.map(encodeURIComponent).join('%2C')}`));
  const fresh = await browser.newPage();
  try {
    await fresh.context().addCookies([{ name: 'vscope_session', value: api.cookie.split('=')[1] ?? '', url: stack.current.vscope.url }]);
    await fresh.goto(url(zoomed));
    await fresh.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="compare-chosen"] li[data-id]').length === n && Number(document.querySelector('[data-testid="compare-chart"]')?.getAttribute('data-points') ?? '0') > 0,
      chosen.length,
    );
    assert.equal(await fresh.getByTestId('zoom-reset').isEnabled(), true);
    await screenshot(fresh, 'insights-compare-zoomed');
  } finally {
    await fresh.close();
  }
});

test('Capacity in the dark theme', async () => {
  await page.goto(url(`#/dc/${dc.id}/capacity?period=month`));
  await page.getByTestId('capacity-datastores').waitFor();
  await page.getByTestId('theme-toggle').click();
  await screenshot(page, 'insights-capacity-dark');
  await page.getByTestId('theme-toggle').click();
});
