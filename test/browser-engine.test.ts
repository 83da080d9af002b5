/// <reference lib="dom" />
/**
 * The UI once with a Prometheus-compatible engine behind it (VictoriaMetrics from Debian, on a
 * loopback port): `vscope serve` sends the simulator's samples by remote write, the lists show
 * the latest figures and the graphs read the history back with PromQL, a day and a year.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SeriesResponse, VmRow, DatacenterRow } from '../src/shared/api.ts';
import { formatMhz } from '../src/shared/format.ts';
import { apiLogin, type ApiClient } from './support/api-client.ts';
import { launchBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { startEngine, type Engine } from './support/engines.ts';
import { testLogin, useStack } from './support/stack.ts';

let engine: Engine | undefined;
const engineStarted = startEngine('victoria-metrics');
// A failure is reported by the stack's hook, which awaits it.
engineStarted.catch(() => undefined);
const stack = useStack({ datacenters: 1, clusters: 1, hostsPerCluster: 2, standaloneHosts: 0, vmsPerPool: 3, datastores: 1 }, async () => {
  engine = await engineStarted;
  return { VSCOPE_REMOTE_WRITE_URL: engine.remoteWriteUrl, VSCOPE_PROMQL_URL: engine.url };
});
let browser: BrowserSession;
let page: Page;
let api: ApiClient;

before(async () => {
  await stack.ready;
  await engine?.flush();
  browser = await launchBrowser();
  page = await browser.newPage();
  api = await apiLogin(stack.current.vscope.url, testLogin.username, testLogin.password);
});

after(async () => {
  await browser?.close();
  await engine?.destroy();
});

test('with the engine behind, the VM list shows figures and a VM graph draws its day and its year', async () => {
  const [dc] = await api.get<DatacenterRow[]>('/api/datacenters');
  assert.ok(dc, 'a datacenter');
  const vms = await api.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`);
  const vm = vms.find((row) => row.cpuUsedMhz !== null);
  assert.ok(vm, 'a VM with its latest figures (the 5-minute bucket kept beside the inventory)');
  // The series come from the engine: the history import of the first cycle went there.
  const year = await api.get<SeriesResponse>(`/api/entities/${vm.id}/series?period=year`);
  const cpu = year.series.find((series) => series.metric === 'cpuUsedMhz');
  assert.ok(cpu && cpu.avg.filter((value) => value !== null).length > 300, 'a year of daily buckets, from the engine');

  await page.goto(stack.current.vscope.url);
  await page.getByTestId('login-username').fill(testLogin.username);
  await page.getByTestId('login-password').fill(testLogin.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('user-name').waitFor();
  // After a login the app opens the first datacenter's overview once the datacenters are in:
  // navigate only after that, or its redirect can replace the VM list.
  await page.waitForFunction(() => location.hash.startsWith('#/dc/'));
  await page.getByTestId('data-collected').waitFor();
  await page.goto(`${stack.current.vscope.url}/#/dc/${dc.id}/vms`);
  await page
    .waitForFunction((n) => document.querySelectorAll('[data-testid="vm-table"] tbody tr[data-id]').length === n, vms.length)
    .catch(async (error: unknown) => {
      const shown = await page.evaluate(() => document.querySelectorAll('[data-testid="vm-table"] tbody tr[data-id]').length);
      const text = await page.evaluate(() => document.body.innerText.slice(0, 600));
      throw new Error(`the VM table shows ${String(shown)} rows, the API ${String(vms.length)}: ${text}`, { cause: error });
    });
  const row = await page.locator(`[data-testid="vm-table"] tr[data-id="${vm.id}"]`).innerText();
  // The UI's own unit rule (850 MHz, 1.08 GHz): the figure is vcsim's noise, either side of 1,000.
  assert.ok(row.includes(formatMhz(vm.cpuUsedMhz)), `${row} shows ${formatMhz(vm.cpuUsedMhz)}`);

  await page.goto(`${stack.current.vscope.url}/#/entity/${vm.id}`);
  await page.getByTestId('entity-view').waitFor();
  const hasData = async (period: string): Promise<void> => {
    try {
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('[data-testid^="chart-"]')).some((chart) => chart.querySelector('canvas') !== null && Number(chart.getAttribute('data-points') ?? '0') > 0),
      );
    } catch (error) {
      // Say what the API answers, so that a failure tells the data from the drawing apart.
      const series = await api.get<SeriesResponse>(`/api/entities/${vm.id}/series?period=${period}`);
      const filled = series.series.map((one) => `${one.metric}: ${String(one.avg.filter((value) => value !== null).length)}`).join(', ');
      throw new Error(`no chart of ${vm.id} drew points for ${period}; the API's ${String(series.ts.length)} buckets hold ${filled}`, { cause: error });
    }
  };
  await hasData('day');
  await screenshot(page, 'engine-vm-graph-day');
  await page.locator('[data-testid="period-select"] button[data-period="year"]').click();
  await page.waitForFunction(() => location.hash.includes('period=year'));
  await hasData('year');
  await screenshot(page, 'engine-vm-graph-year');
});
