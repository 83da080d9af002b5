/**
 * GET /metrics: the Prometheus text exposition, parsed line by line against its grammar, with
 * the values of the hand-made inventory and a VM whose name needs escaping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { entityId } from '../src/shared/entity-id.ts';
import type { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { downVcenter, testApp, type TestApp } from './fixtures/api-app.ts';
import { fillStore, ids, nowSec } from './fixtures/api-inventory.ts';

const weirdName = 'a"b\\c\nd';

/** The fixture plus vCenter vc3 holding one VM whose name has a quote, a backslash and a newline. */
function fill(store: SqliteStore): void {
  fillStore(store);
  const dc = entityId('datacenter', 'vc3', 'datacenter-1');
  store.saveInventory({
    vcenterId: 'vc3',
    collectedAtSec: nowSec,
    datacenters: [{ kind: 'datacenter', id: dc, vcenterId: 'vc3', moRef: 'datacenter-1', name: 'DC "3"' }],
    clusters: [],
    hosts: [],
    vms: [
      {
        kind: 'vm',
        id: entityId('vm', 'vc3', 'vm-1'),
        vcenterId: 'vc3',
        moRef: 'vm-1',
        name: weirdName,
        datacenterId: dc,
        hostId: null,
        clusterId: null,
        datastoreIds: [],
        powerState: 'poweredOn',
        overallStatus: 'green',
        guestOs: null,
        ipAddress: null,
        numCpu: 2,
        memoryMB: 2048,
        diskProvisionedGB: 1,
        diskUsedGB: 1,
        toolsRunningStatus: null,
        toolsVersionStatus: null,
        toolsVersion: null,
        faultToleranceState: 'notConfigured',
        snapshotCount: 0,
        isTemplate: false,
      },
    ],
    datastores: [],
  });
}

const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const labelValue = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const label = `[a-zA-Z_][a-zA-Z0-9_]*=${labelValue}`;
const value = '(?:[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)';
const sampleLine = new RegExp(`^(${metricName})(?:\\{(?:${label}(?:,${label})*)?\\})? (${value})$`);
const helpLine = new RegExp(`^# HELP (${metricName}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const typeLine = new RegExp(`^# TYPE (${metricName}) (?:counter|gauge|histogram|summary|untyped)$`);

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the exposition, asserting the grammar and the family order of every line. */
function parseExposition(text: string): Sample[] {
  assert.ok(text.endsWith('\n'), 'the text ends with a line feed');
  const samples: Sample[] = [];
  const typed = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  for (const line of text.slice(0, -1).split('\n')) {
    const help = helpLine.exec(line);
    const type = typeLine.exec(line);
    const sample = sampleLine.exec(line);
    if (help?.[1] !== undefined) {
      assert.ok(!finished.has(help[1]) && !typed.has(help[1]), `HELP of ${help[1]} comes once, before its samples`);
      if (current !== null) finished.add(current);
      current = help[1];
      continue;
    }
    if (type?.[1] !== undefined) {
      assert.equal(type[1], current, 'TYPE follows its HELP');
      typed.add(type[1]);
      continue;
    }
    assert.ok(sample?.[1] !== undefined && sample[2] !== undefined, `not a valid sample line: ${JSON.stringify(line)}`);
    assert.equal(sample[1], current, `sample of ${sample[1]} outside its family`);
    assert.ok(typed.has(sample[1]), `${sample[1]} has a TYPE line`);
    const labels: Record<string, string> = {};
    for (const match of line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g)) {
      labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: sample[1], labels, value: Number(sample[2].replace('Inf', 'Infinity')) });
  }
  return samples;
}

void describe('/metrics', () => {
  let t: TestApp;
  let samples: Sample[];
  let text: string;
  before(async () => {
    t = testApp({ vcenters: [{ ...downVcenter, id: 'vc1', name: 'Lab' }], startMs: nowSec * 1000, fill });
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    text = response.body;
    samples = parseExposition(text);
  });
  after(async () => {
    await t.close();
  });

  const find = (name: string, labels: Readonly<Record<string, string>>): Sample[] =>
    samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, val]) => sample.labels[key] === val));

  void test('every line follows the exposition grammar, with HELP and TYPE per family', () => {
    assert.ok(samples.length > 50, `${String(samples.length)} samples`);
    assert.ok(samples.every((sample) => sample.name.startsWith('vscope_') || sample.name.startsWith('vmware_')));
  });

  void test('label values are escaped: backslash, quote and newline', () => {
    assert.ok(text.includes('vm_name="a\\"b\\\\c\\nd"'), 'escaped VM name in the text');
    assert.ok(text.includes('dc_name="DC \\"3\\""'));
    const weird = find('vscope_vm_vcpus', { vm_name: weirdName });
    assert.equal(weird.length, 1);
    assert.equal(weird[0]?.value, 2);
    assert.equal(weird[0]?.labels.vcenter, 'vc3', 'the vCenter is labelled by its id, as remote write does');
  });

  void test('figures carry the fixture values under the names and labels remote write uses', () => {
    const vm = find('vmware_vm_cpu_usage_average', { vm_name: 'web-1' });
    assert.deepEqual(vm, [
      {
        name: 'vmware_vm_cpu_usage_average',
        labels: { cluster_name: 'C1', dc_name: 'DC1', ds_name: 'ds1', entity_id: ids.vm1, host_name: 'esx1.example.com', vcenter: 'vc1', vm_name: 'web-1' },
        // 23 %, in vCenter's hundredths of a percent as vmware_exporter exports it.
        value: 2300,
      },
    ]);
    assert.equal(find('vmware_vm_cpu_ready_summation', { vm_name: 'web-1' })[0]?.value, 800);
    assert.equal(find('vscope_vm_cpu_ready_percent_per_vcpu', { vm_name: 'web-1' })[0]?.value, 1);
    assert.equal(find('vscope_vm_powered_on', { vm_name: 'db-1' })[0]?.value, 0);
    assert.equal(find('vmware_vm_cpu_usage_average', { vm_name: 'db-1' }).length, 0, 'unknown figures are left out');
    assert.equal(find('vscope_vm_vcpus', { vm_name: 'template-debian' }).length, 0, 'templates are not VMs here');
    assert.equal(find('vscope_vm_vcpus', { vm_name: 'old-vm' }).length, 0, 'removed VMs are gone');
    assert.equal(find('vmware_host_net_bytesRx_average', { host_name: 'esx1.example.com' })[0]?.value, 300);
    assert.equal(find('vmware_host_cpu_usage_average', { host_name: 'esx1.example.com' })[0]?.value, 5000);
    assert.equal(find('vscope_host_mem_consumed_bytes', { host_name: 'esx1.example.com' })[0]?.value, 65536 * 1024 * 1024);
    assert.equal(find('vscope_host_maintenance_mode', { host_name: 'esx2.example.com' })[0]?.value, 1);
    assert.deepEqual(find('vscope_nic_rx_kilobytes_per_second', { nic: 'vmnic0' })[0]?.labels, {
      cluster_name: 'C1',
      dc_name: 'DC1',
      entity_id: ids.nic0,
      host_name: 'esx1.example.com',
      nic: 'vmnic0',
      vcenter: 'vc1',
    });
    assert.equal(find('vscope_nic_rx_kilobytes_per_second', { host_name: 'esx1.example.com', nic: 'vmnic0' })[0]?.value, 120);
    assert.equal(find('vmware_datastore_capacity_size', { ds_name: 'ds1' })[0]?.value, 1000 * 1024 ** 3);
    assert.equal(find('vmware_datastore_freespace_size', { ds_name: 'ds1' })[0]?.value, 250 * 1024 ** 3);
    assert.equal(find('vscope_collector_last_success_timestamp_seconds', { vcenter: 'vc1' })[0]?.value, nowSec - 60);
    assert.equal(find('vscope_collector_stale', { vcenter: 'vc1' })[0]?.value, 0);
    assert.equal(find('vscope_collector_stale', { vcenter: 'vc2' })[0]?.value, 1, 'vc2 failed its last cycle');
    // No two samples share a name and label set (Prometheus would reject the scrape).
    const keys = samples.map((sample) => `${sample.name}${JSON.stringify(sample.labels)}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  void test('/metrics is absent unless enabled', async () => {
    const off = testApp({ vcenters: [], startMs: nowSec * 1000, config: { metrics: false } });
    const response = await off.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json<{ error: { code: string } }>().error.code, 'not_found');
    await off.close();
  });

  void test('/metrics with a token answers only the bearer of that token', async () => {
    const token = 'scrape-token-0123456789';
    const guarded = testApp({ vcenters: [], startMs: nowSec * 1000, config: { metrics: true, metricsToken: token } });
    try {
      const none = await guarded.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(none.statusCode, 401);
      assert.match(none.headers['www-authenticate'] as string, /^Bearer /);
      assert.equal(none.json<{ error: { code: string } }>().error.code, 'not_authenticated');
      const wrong = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token.slice(0, -1)}x` } });
      assert.equal(wrong.statusCode, 401);
      const right = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      assert.equal(right.statusCode, 200);
      assert.match(String(right.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    } finally {
      await guarded.close();
    }
  });
});
