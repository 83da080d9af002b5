/**
 * The vSphere client against the simulator: login, retrieval counts, counters, QueryPerf,
 * transparent re-login, tasks, XML escaping, and passwords kept out of errors and logs.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { useVcsim } from './support/vcsim.ts';
import { VsphereClient, type ConnectOptions } from '../src/vsphere/client.ts';
import { InvalidLogin, TaskFailed } from '../src/vsphere/errors.ts';
import { asArray, asMoRef, asRecord, asString, moRefXml, textXml } from '../src/vsphere/values.ts';

const username = 'svc-vscope@vsphere.local';
const password = 'S3cret-P4ss<&>';
const inventory = { datacenters: 2, clusters: 2, hostsPerCluster: 2, standaloneHosts: 1, pools: 1, vmsPerPool: 2, datastores: 2 };
const sim = useVcsim({ ...inventory, username, password });

function capture(): { log: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { log: pino({ level: 'trace' }, stream), text: () => chunks.join('') };
}

function options(extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { url: sim.current.url, username, password, ...extra };
}

async function withClient<T>(fn: (client: VsphereClient) => Promise<T>, extra: Partial<ConnectOptions> = {}): Promise<T> {
  const client = await VsphereClient.connect(options(extra));
  try {
    return await fn(client);
  } finally {
    await client.logout();
  }
}

void describe('vSphere client against vcsim', () => {
  void it('logs in with good credentials and reads about and the service content', async () => {
    await withClient((client) => {
      assert.equal(client.about.apiType, 'VirtualCenter');
      assert.match(client.about.version, /^\d+\.\d+/);
      assert.equal(client.serviceContent.perfManager.type, 'PerformanceManager');
      assert.equal(client.serviceContent.rootFolder.type, 'Folder');
      assert.match(client.sessionCookie ?? '', /^vmware_soap_session=.+/);
      return Promise.resolve();
    });
  });

  void it('refuses bad credentials with InvalidLogin, without the password in the error or the logs', async () => {
    const { log, text } = capture();
    const wrong = 'Wr0ng-pass-word!';
    await assert.rejects(VsphereClient.connect(options({ password: wrong, log })), (error: unknown) => {
      assert.ok(error instanceof InvalidLogin);
      assert.equal(error.code, 'INVALID_LOGIN');
      assert.ok(!error.message.includes(wrong));
      assert.ok(!JSON.stringify(error).includes(wrong));
      return true;
    });
    // A good login logs at debug/trace too: neither password may appear.
    const client = await VsphereClient.connect(options({ log }));
    await client.retrieve('Datacenter', ['name']);
    await client.logout();
    assert.ok(text().length > 0, 'the client logged something');
    assert.ok(!text().includes(wrong));
    assert.ok(!text().includes(password));
  });

  void it('retrieves every datacenter, cluster, host, VM and datastore the simulator made', async () => {
    // Per datacenter: hosts = clusters × hostsPerCluster + standalone = 2×2+1 = 5.
    // This vcsim puts VMs in each cluster's root pool and on each standalone host (child pools
    // get none): VMs = vmsPerPool × (clusters + standalone) = 2 × (2+1) = 6.
    // Datastores: 2 per datacenter.
    const perDc = { clusters: 2, hosts: 5, vms: 6, datastores: 2 };
    await withClient(async (client) => {
      const datacenters = await client.retrieve('Datacenter', ['name']);
      assert.deepEqual(datacenters.map((dc) => dc.props['name']).sort(), ['DC0', 'DC1']);
      const clusters = await client.retrieve('ClusterComputeResource', ['name']);
      const hosts = await client.retrieve('HostSystem', ['name', 'summary.hardware.numCpuCores']);
      const vms = await client.retrieve('VirtualMachine', ['name', 'runtime.powerState', 'config.hardware.numCPU']);
      const datastores = await client.retrieve('Datastore', ['name', 'summary.capacity']);
      assert.equal(clusters.length, 2 * perDc.clusters);
      assert.equal(hosts.length, 2 * perDc.hosts);
      assert.equal(vms.length, 2 * perDc.vms);
      assert.equal(new Set(datastores.map((ds) => ds.obj.value)).size, 2 * perDc.datastores);
      assert.equal(datastores.length, 2 * perDc.datastores);
      // Typed values: xsd:int -> number, enum -> string.
      for (const vm of vms) {
        assert.equal(typeof vm.props['config.hardware.numCPU'], 'number');
        assert.equal(typeof vm.props['name'], 'string');
        assert.equal(vm.obj.type, 'VirtualMachine');
      }
      assert.equal(typeof hosts[0]?.props['summary.hardware.numCpuCores'], 'number');
      // Under one datacenter only.
      const dc0 = datacenters.find((dc) => dc.props['name'] === 'DC0');
      assert.ok(dc0);
      assert.equal((await client.retrieve('HostSystem', [], dc0.obj)).length, perDc.hosts);
    });
  });

  void it('pages with a small page size and gets the same objects', async () => {
    await withClient(
      async (client) => {
        const vms = await client.retrieve('VirtualMachine', ['name']);
        assert.equal(vms.length, 12);
      },
      { pageSize: 5 },
    );
  });

  void it('resolves counters by name and reads historical intervals', async () => {
    await withClient(async (client) => {
      const counters = await client.perfCounters();
      const cpu = counters.get('cpu.usage.average');
      assert.ok(cpu);
      assert.equal(cpu.unit, 'percent');
      assert.equal(cpu.statsType, 'rate');
      assert.ok(cpu.id > 0);
      assert.equal(counters.get('net.bytesRx.average')?.unit, 'kiloBytesPerSecond');
      assert.equal(counters.get('cpu.ready.summation')?.rollup, 'summation');
      const intervals = await client.historicalIntervals();
      assert.ok(Array.isArray(intervals));
    });
  });

  void it('queries realtime samples for a VM and for a host vmnic, ascending', async () => {
    await withClient(async (client) => {
      const counters = await client.perfCounters();
      const cpuUsage = counters.get('cpu.usage.average');
      const bytesRx = counters.get('net.bytesRx.average');
      assert.ok(cpuUsage && bytesRx);
      const [vm] = await client.retrieve('VirtualMachine', ['name']);
      const [host] = await client.retrieve('HostSystem', ['config.network.pnic']);
      assert.ok(vm && host);
      const pnics = asArray(host.props['config.network.pnic']).map((p) => asString(asRecord(p)?.['device']));
      const vmnic = pnics[0];
      assert.ok(vmnic && /^vmnic\d+$/.test(vmnic));
      const results = await client.queryPerf([
        { entity: vm.obj, metricIds: [{ counterId: cpuUsage.id, instance: '' }], intervalSec: 20, maxSample: 6 },
        { entity: host.obj, metricIds: [{ counterId: bytesRx.id, instance: vmnic }], intervalSec: 20, maxSample: 6 },
      ]);
      assert.equal(results.length, 2);
      const byEntity = new Map(results.map((r) => [r.entity.value, r]));
      for (const [entity, counterId, instance] of [
        [vm.obj.value, cpuUsage.id, ''],
        [host.obj.value, bytesRx.id, vmnic],
      ] as const) {
        const result = byEntity.get(entity);
        assert.ok(result, `samples for ${entity}`);
        assert.ok(result.samples.length > 0);
        assert.ok(result.samples.every((s) => s.intervalSec === 20));
        for (let i = 1; i < result.samples.length; i++) {
          assert.ok((result.samples[i]?.tsSec ?? 0) > (result.samples[i - 1]?.tsSec ?? 0), 'ascending');
        }
        const series = result.series.find((s) => s.counterId === counterId && s.instance === instance);
        assert.ok(series);
        assert.equal(series.values.length, result.samples.length);
      }
    });
  });

  void it('batches QueryPerf specs and keeps every entity', async () => {
    await withClient(async (client) => {
      const cpuUsage = (await client.perfCounters()).get('cpu.usage.average');
      assert.ok(cpuUsage);
      const vms = await client.retrieve('VirtualMachine', []);
      const specs = vms.map((vm) => ({ entity: vm.obj, metricIds: [{ counterId: cpuUsage.id, instance: '' }], intervalSec: 20, maxSample: 2 }));
      const results = await client.queryPerf(specs, { entitiesPerQuery: 5, concurrency: 2 });
      assert.deepEqual(results.map((r) => r.entity.value).sort(), vms.map((vm) => vm.obj.value).sort());
    });
  });

  void it('logs in again transparently when the session is logged out behind its back', async () => {
    const { log, text } = capture();
    await withClient(
      async (client) => {
        const cookie = client.sessionCookie;
        assert.ok(cookie);
        const logout = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Logout xmlns="urn:vim25">${moRefXml('_this', client.serviceContent.sessionManager)}</Logout></soapenv:Body></soapenv:Envelope>`;
        const response = await fetch(client.url, { method: 'POST', headers: { 'content-type': 'text/xml', cookie }, body: logout });
        assert.equal(response.status, 200);
        await response.text();
        // The old cookie is dead now...
        const probe = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CreateContainerView xmlns="urn:vim25">${moRefXml('_this', client.serviceContent.viewManager)}${moRefXml('container', client.serviceContent.rootFolder)}<type>VirtualMachine</type><recursive>true</recursive></CreateContainerView></soapenv:Body></soapenv:Envelope>`;
        const refused = await fetch(client.url, { method: 'POST', headers: { 'content-type': 'text/xml', cookie }, body: probe });
        assert.match(await refused.text(), /NotAuthenticated/);
        // ...yet the client carries on, with a new session.
        const vms = await client.retrieve('VirtualMachine', ['name']);
        assert.equal(vms.length, 12);
        assert.notEqual(client.sessionCookie, cookie);
        const counters = await client.perfCounters();
        assert.ok(counters.size > 0);
      },
      { log },
    );
    assert.match(text(), /logging in again/);
    assert.ok(!text().includes(password));
  });

  void it('escapes values: a VM renamed to a name with <&>"\' reads back the same', async () => {
    await withClient(async (client) => {
      const [vm] = await client.retrieve('VirtualMachine', ['name']);
      assert.ok(vm);
      const name = `odd <&>"' name 123`;
      const task = asMoRef(await client.call('Rename_Task', vm.obj, textXml('newName', name)));
      assert.ok(task);
      await client.waitForTask(task);
      assert.equal((await client.properties(vm.obj, ['name'])).props['name'], name);
      const again = await client.retrieve('VirtualMachine', ['name']);
      assert.ok(again.some((v) => v.props['name'] === name));
    });
  });

  void it('waitForTask returns on success and throws TaskFailed on an error state', async () => {
    await withClient(async (client) => {
      const vms = await client.retrieve('VirtualMachine', ['runtime.powerState']);
      const on = vms.find((vm) => vm.props['runtime.powerState'] === 'poweredOn');
      assert.ok(on);
      const off = asMoRef(await client.call('PowerOffVM_Task', on.obj));
      assert.ok(off);
      await client.waitForTask(off);
      assert.equal((await client.properties(on.obj, ['runtime.powerState'])).props['runtime.powerState'], 'poweredOff');
      const again = asMoRef(await client.call('PowerOffVM_Task', on.obj));
      assert.ok(again);
      await assert.rejects(client.waitForTask(again), (error: unknown) => error instanceof TaskFailed && error.faultType === 'InvalidPowerState');
      const destroy = asMoRef(await client.call('Destroy_Task', on.obj));
      assert.ok(destroy);
      await client.waitForTask(destroy);
      assert.equal((await client.retrieve('VirtualMachine', [])).length, 11);
    });
  });

  void it('logout never throws, even twice', async () => {
    const client = await VsphereClient.connect(options());
    await client.logout();
    await client.logout();
  });
});
