/// <reference lib="dom" />
/**
 * The UI in a real browser (Debian Chromium) against `vscope serve` on a simulator:
 * log in, every view, values equal to the API's, sort, filter, graphs, zoom, XSS, logout.
 * Screenshots of every view land in test-results/screenshots.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { DatacenterRow, DatastoreRow, HostRow, VmRow } from '../src/shared/api.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { xmlEscape } from '../src/vsphere/values.ts';
import { apiLogin, type ApiClient } from './support/api-client.ts';
import { launchBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { testLogin, useStack } from './support/stack.ts';

const stack = useStack({ datacenters: 2, clusters: 1, hostsPerCluster: 2, standaloneHosts: 1, vmsPerPool: 3, datastores: 2 });
let browser: BrowserSession;
let page: Page;
let api: ApiClient;
let datacenters: DatacenterRow[];
const dialogs: string[] = [];

before(async () => {
  await stack.ready;
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  api = await apiLogin(stack.current.vscope.url, testLogin.username, testLogin.password);
  datacenters = await api.get<DatacenterRow[]>('/api/datacenters');
  if (datacenters.length !== 2) {
    // Say what the collector saw, so a failure here is diagnosable from the CI log alone.
    throw new Error(`expected 2 datacenters, the API lists ${JSON.stringify(datacenters)}; status: ${JSON.stringify(await api.get('/api/status'))}`);
  }
});

after(async () => {
  await browser?.close();
});

function dcAt(index: number): DatacenterRow {
  const dc = datacenters[index];
  if (!dc) throw new Error(`no datacenter ${String(index)}`);
  return dc;
}

async function rowIds(testId: string): Promise<string[]> {
  return page.locator(`[data-testid="${testId}"] tbody tr[data-id]`).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));
}

async function waitForRows(testId: string, count: number): Promise<void> {
  await page.waitForFunction(
    ({ testId: id, count: n }) => document.querySelectorAll(`[data-testid="${id}"] tbody tr[data-id]`).length === n,
    { testId, count },
  );
}

test('a bad login shows a message and no session', async () => {
  await page.goto(stack.current.vscope.url);
  await page.getByTestId('login-username').fill(testLogin.username);
  await page.getByTestId('login-password').fill('wrong password');
  await page.getByTestId('login-submit').click();
  const error = page.getByTestId('login-error');
  await error.waitFor();
  assert.match(await error.innerText(), /user ?name or password/i);
  await screenshot(page, 'login-error');
});

test('logging in shows the user and every datacenter in the selector', async () => {
  await page.getByTestId('login-password').fill(testLogin.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('user-name').waitFor();
  assert.match(await page.getByTestId('user-name').innerText(), /alice/);
  const options = await page.locator('[data-testid="dc-select"] option').evaluateAll((list) => list.map((o) => o.textContent ?? ''));
  assert.equal(datacenters.length, 2);
  for (const dc of datacenters) assert.ok(options.some((text) => text.includes(dc.name)), `${dc.name} in ${options.join(', ')}`);
  await page.getByTestId('data-collected').waitFor();
  assert.match(await page.getByTestId('data-collected').innerText(), /collected/i);
});

test('the overview shows the hosts of the selected datacenter', async () => {
  const dc = dcAt(0);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}`);
  const hosts = await api.get<HostRow[]>(`/api/datacenters/${dc.id}/hosts`);
  await page.getByTestId('dc-totals').waitFor();
  const text = await page.getByTestId('overview-hosts').innerText();
  for (const host of hosts) assert.ok(text.includes(host.name), `${host.name} on the overview`);
  await screenshot(page, 'overview');
});

test('switching datacenter changes the URL and the data', async () => {
  const other = dcAt(1);
  await page.getByTestId('dc-select').selectOption(other.id);
  await page.waitForFunction((id) => location.hash.includes(id), other.id);
  const hosts = await api.get<HostRow[]>(`/api/datacenters/${other.id}/hosts`);
  const first = hosts[0];
  assert.ok(first);
  await page.getByTestId('overview-hosts').getByText(first.name, { exact: true }).first().waitFor();
});

test('the Filer lists the API datastores with their figures', async () => {
  const dc = dcAt(0);
  const datastores = await api.get<DatastoreRow[]>(`/api/datacenters/${dc.id}/datastores`);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/filer`);
  await waitForRows('datastore-table', datastores.length);
  assert.deepEqual((await rowIds('datastore-table')).sort(), datastores.map((d) => d.id).sort());
  const first = datastores[0];
  assert.ok(first);
  const row = await page.locator(`[data-testid="datastore-table"] tr[data-id="${first.id}"]`).innerText();
  assert.ok(row.includes(first.name));
  assert.ok(row.includes(first.type), `type ${first.type} in ${row}`);
  await screenshot(page, 'filer');
});

test('Hosts lists every host and opens its vmnics', async () => {
  const dc = dcAt(0);
  const hosts = await api.get<HostRow[]>(`/api/datacenters/${dc.id}/hosts`);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/hosts`);
  await waitForRows('host-table', hosts.length);
  assert.deepEqual((await rowIds('host-table')).sort(), hosts.map((h) => h.id).sort());
  const host = hosts.find((h) => h.nics.length > 0);
  assert.ok(host, 'a host with NICs');
  await page.locator(`[data-testid="host-table"] tr[data-id="${host.id}"] [data-testid="nic-toggle"]`).click();
  const nics = page.locator(`[data-testid="nic-table"][data-host="${host.id}"]`);
  await nics.waitFor();
  const text = await nics.innerText();
  for (const nic of host.nics) assert.ok(text.includes(nic.device), `${nic.device} listed`);
  await screenshot(page, 'hosts');
});

test('Virtual machines: rows, sorting and filtering match the API', async () => {
  const dc = dcAt(0);
  const vms = await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
  await waitForRows('vm-table', vms.length);
  assert.deepEqual((await rowIds('vm-table')).sort(), vms.map((v) => v.id).sort());
  await screenshot(page, 'vms');

  // Sort by name, descending: click the header twice (ascending is the default).
  const byName = [...vms].sort((a, b) => b.name.localeCompare(a.name));
  await page.locator('[data-testid="vm-table"] th[data-key="name"] button').click();
  await page.waitForFunction(() => location.hash.includes('sort=name'));
  const header = page.locator('[data-testid="vm-table"] th[data-key="name"]');
  if ((await header.getAttribute('aria-sort')) !== 'descending') await header.locator('button').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="vm-table"] th[data-key="name"]')?.getAttribute('aria-sort') === 'descending');
  assert.deepEqual(await rowIds('vm-table'), byName.map((v) => v.id));
  assert.match(await page.evaluate(() => location.hash), /dir=desc/);

  const target = vms[0];
  assert.ok(target);
  await page.getByTestId('vm-table-filter').fill(target.name);
  const expected = vms.filter((v) => v.name.toLowerCase().includes(target.name.toLowerCase()));
  await waitForRows('vm-table', expected.length);
  assert.match(await page.getByTestId('vm-table-count').innerText(), new RegExp(`${String(expected.length)} of ${String(vms.length)}`));
  assert.match(await page.evaluate(() => location.hash), /q=/);
  await page.getByTestId('vm-table-filter').fill('');
  await waitForRows('vm-table', vms.length);
});

/** Waits until a chart whose test id starts with the prefix has drawn points (uPlot canvas + data-points > 0). */
async function chartHasData(testIdPrefix: string): Promise<void> {
  await page.waitForFunction(
    (prefix) =>
      Array.from(document.querySelectorAll(`[data-testid^="${prefix}"]`)).some(
        (chart) => chart.querySelector('canvas') !== null && Number(chart.getAttribute('data-points') ?? '0') > 0,
      ),
    testIdPrefix,
  );
}

test("a VM's graphs: charts drawn, period switch, drag-to-zoom and reset", async () => {
  const dc = dcAt(0);
  const vms = await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`);
  const vm = vms.find((v) => v.powerState === 'poweredOn') ?? vms[0];
  assert.ok(vm);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
  await page.locator(`[data-testid="vm-table"] tr[data-id="${vm.id}"] a[href*="${vm.id}"]`).first().click();
  await page.getByTestId('entity-view').waitFor();
  assert.equal(await page.getByTestId('entity-name').innerText(), vm.name);
  await chartHasData('chart-');
  await screenshot(page, 'vm-graph-day');

  await page.locator('[data-testid="period-select"] button[data-period="year"]').click();
  await page.waitForFunction(() => location.hash.includes('period=year'));
  await page.waitForFunction(() => /1 d buckets|1 day/i.test(document.querySelector('[data-testid="chart-range"]')?.textContent ?? ''));
  await chartHasData('chart-');
  await screenshot(page, 'vm-graph-year');

  const over = page.locator('[data-testid^="chart-"] .u-over').first();
  const box = await over.boundingBox();
  assert.ok(box, 'the chart has an interaction layer');
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => /from=\d+&to=\d+|to=\d+.*from=\d+/.test(location.hash));
  assert.equal(await page.getByTestId('zoom-reset').isEnabled(), true);
  await screenshot(page, 'vm-graph-zoomed');
  await page.getByTestId('zoom-reset').click();
  await page.waitForFunction(() => !location.hash.includes('from='));
});

test("a host NIC's graph opens from its host", async () => {
  const dc = dcAt(0);
  const hosts = await api.get<HostRow[]>(`/api/datacenters/${dc.id}/hosts`);
  const host = hosts.find((h) => h.nics.length > 0);
  const nic = host?.nics[0];
  assert.ok(host && nic);
  await page.goto(`${stack.current.vscope.url}/#/entity/${host.id}`);
  await page.getByTestId('entity-view').waitFor();
  await chartHasData('chart-');
  await screenshot(page, 'host-graph');
  await page.locator(`a[href*="${nic.id}"]`).first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid="entity-view"]')?.getAttribute('data-kind') === 'nic');
  assert.equal(await page.getByTestId('entity-name').innerText(), nic.device);
  await page.locator('[data-testid="period-select"] button[data-period="week"]').click();
  await page.waitForFunction(() => location.hash.includes('period=week'));
  await chartHasData('chart-');
  await screenshot(page, 'nic-graph-week');
});

test('a VM renamed to an XSS payload shows as literal text and runs nothing', async () => {
  const dc = dcAt(0);
  const vms = await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`);
  const vm = vms[1];
  assert.ok(vm);
  const payload = '<img src=x onerror=alert(1)> "quoted" 🚀 עברית';
  const detail = await api.get<{ row: { id: string } | null }>(`/api/entities/${vm.id}`);
  assert.ok(detail.row);
  // Rename through the simulator's SOAP API, as a vSphere user would in the vSphere Client.
  const client = await VsphereClient.connect({ url: stack.current.sim.url, username: testLogin.username, password: testLogin.password });
  try {
    const [found] = (await client.retrieve('VirtualMachine', ['name'])).filter((o) => o.props.name === vm.name);
    assert.ok(found, 'the VM on the simulator');
    const task = await client.call('Rename_Task', found.obj, `<newName>${xmlEscape(payload)}</newName>`);
    await client.waitForTask(task as { type: string; value: string });
  } finally {
    await client.logout();
  }
  const results = await stack.current.collector.runOnce();
  assert.ok(results.every((r) => r.ok));

  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
  await page.locator(`[data-testid="vm-table"] tr[data-id="${vm.id}"]`).waitFor();
  await page.waitForFunction(
    ({ id, name }) => document.querySelector(`[data-testid="vm-table"] tr[data-id="${id}"]`)?.textContent?.includes(name) === true,
    { id: vm.id, name: payload },
  );
  assert.equal(await page.locator('[data-testid="vm-table"] img').count(), 0, 'no <img> element was created from the name');
  await page.goto(`${stack.current.vscope.url}/#/entity/${vm.id}`);
  await page.getByTestId('entity-name').waitFor();
  assert.equal(await page.getByTestId('entity-name').innerText(), payload);
  assert.deepEqual(dialogs, [], 'no dialog fired');
  await screenshot(page, 'xss-literal');
});

test('CSV export downloads the filtered table', async () => {
  const dc = dcAt(0);
  const vms = await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
  await waitForRows('vm-table', vms.length);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('vm-table-csv').click()]);
  const path = await download.path();
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  assert.equal(lines.length, vms.length + 1, 'a header and one line per VM');
  assert.match(lines[0] ?? '', /Name/);
  for (const vm of vms) assert.ok(lines.some((line) => line.includes(vm.name.replaceAll('"', '""'))), `${vm.name} in the CSV`);
});

test('the keyboard reaches and sorts a table header', async () => {
  const dc = dcAt(0);
  const vms = await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
  await waitForRows('vm-table', vms.length);
  const header = page.locator('[data-testid="vm-table"] th[data-key="numCpu"] button');
  await header.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="vm-table"] th[data-key="numCpu"]')?.getAttribute('aria-sort') !== 'none');
  assert.match(await page.evaluate(() => location.hash), /sort=numCpu/);
});

test('dark theme and a phone-sized screen', async () => {
  const dc = dcAt(0);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}`);
  await page.getByTestId('dc-totals').waitFor();
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'dark');
  await screenshot(page, 'overview-dark');
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'light');

  const phone = await browser.newPage({ width: 390, height: 844 });
  try {
    await phone.context().addCookies([{ name: 'vscope_session', value: api.cookie.split('=')[1] ?? '', url: stack.current.vscope.url }]);
    await phone.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
    await phone.locator('[data-testid="vm-table"] tbody tr[data-id]').first().waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page itself does not scroll sideways (${String(overflow)} px); tables scroll inside`);
    await screenshot(phone, 'vms-phone');
  } finally {
    await phone.close();
  }
});

test('a failed collection flags the data as stale with the reason', async () => {
  await stack.current.sim.stop();
  const results = await stack.current.collector.runOnce();
  assert.equal(results[0]?.ok, false);
  await page.goto(`${stack.current.vscope.url}/#/dc/${dcAt(0).id}`);
  const banner = page.getByTestId('stale-banner');
  await banner.waitFor();
  assert.match(await banner.innerText(), /stale/i);
  const reason = results[0]?.error;
  assert.ok(reason, 'the failed cycle says why');
  assert.ok((await banner.innerText()).includes(reason.slice(0, 40)), 'the banner gives the reason');
  await screenshot(page, 'stale-banner');
});

test('logging out returns to the login form and ends the session', async () => {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-form').waitFor();
  const status = await page.evaluate(async () => (await fetch('/api/session')).status);
  assert.equal(status, 401);
});
