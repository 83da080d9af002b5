/**
 * The independent lower bound of a collection cycle (issue #12): the SOAP calls one steady
 * `vscope collect --once` needs, written here by hand and sent on one keep-alive HTTP
 * connection, one call at a time; every response is read whole and none is parsed.
 *
 * Nothing here comes from src/: the call list was derived by reading the collector
 * (src/collector/discovery.ts: the views and property paths; performance.ts: the counters,
 * instances, windows and maxSample; collector.ts: the datastore IO query and what a new
 * process asks once; history-import.ts: the import's intervals and windows), and
 * collector-bench.ts checks it against what vscope really sends, through a logging proxy.
 *
 * What the bound must know of the inventory (moRefs, vmnic names, which VMs run, counter ids)
 * it learns once, before any timed run, with regular expressions over raw responses
 * (`surveyInventory`): a steady cycle's inventory does not change, and a bound does not parse.
 * The only thing a timed run reads from a response is the id of each ContainerView (a
 * 500-byte answer), which the next call has to name.
 *
 *   node --import tsx bench/soap-bound.ts http://127.0.0.1:PORT/sdk [user] [password]
 */
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';

/** Property paths of src/collector/discovery.ts, in its order. */
export const boundPaths = {
  host: [
    'name',
    'parent',
    'runtime.connectionState',
    'runtime.powerState',
    'runtime.inMaintenanceMode',
    'runtime.bootTime',
    'overallStatus',
    'summary.hardware.cpuModel',
    'summary.hardware.numCpuCores',
    'summary.hardware.numCpuThreads',
    'summary.hardware.cpuMhz',
    'summary.hardware.memorySize',
    'summary.config.product.version',
    'config.network.pnic',
  ],
  vm: [
    'name',
    'runtime.powerState',
    'runtime.host',
    'runtime.faultToleranceState',
    'datastore',
    'overallStatus',
    'summary.config.guestFullName',
    'summary.config.numCpu',
    'summary.config.memorySizeMB',
    'summary.config.template',
    'summary.storage.committed',
    'summary.storage.uncommitted',
    'guest.ipAddress',
    'guest.toolsRunningStatus',
    'guest.toolsVersionStatus2',
    'guest.toolsVersionStatus',
    'guest.toolsVersion',
    'snapshot.rootSnapshotList',
  ],
  datastore: [
    'summary.name',
    'summary.type',
    'summary.capacity',
    'summary.freeSpace',
    'summary.uncommitted',
    'summary.accessible',
    'summary.maintenanceMode',
    'overallStatus',
    'host',
    'vm',
  ],
} as const;

/**
 * Counters of src/shared/metrics.ts, per entity kind, each as its candidates (the first one
 * the server offers wins); `perDevice` counters are asked for every instance ('*').
 */
const counterNames: Record<'host' | 'nic' | 'vm' | 'datastore', readonly (readonly string[])[]> = {
  host: [
    ['cpu.usage.average'],
    ['cpu.usagemhz.average'],
    ['mem.usage.average'],
    ['mem.consumed.average'],
    ['net.bytesRx.average', 'net.received.average'],
    ['net.bytesTx.average', 'net.transmitted.average'],
  ],
  nic: [['net.bytesRx.average', 'net.received.average'], ['net.bytesTx.average', 'net.transmitted.average'], ['net.packetsRx.summation'], ['net.packetsTx.summation']],
  vm: [
    ['cpu.usage.average'],
    ['cpu.usagemhz.average'],
    ['cpu.ready.summation'],
    ['mem.usage.average'],
    ['net.bytesRx.average', 'net.received.average'],
    ['net.bytesTx.average', 'net.transmitted.average'],
    ['net.packetsRx.summation'],
    ['net.packetsTx.summation'],
    ['virtualDisk.read.average'],
    ['virtualDisk.write.average'],
    ['virtualDisk.numberReadAveraged.average'],
    ['virtualDisk.numberWriteAveraged.average'],
    ['virtualDisk.totalReadLatency.average'],
    ['virtualDisk.totalWriteLatency.average'],
    ['disk.maxTotalLatency.latest'],
    ['mem.vmmemctl.average'],
    ['mem.swapinRate.average'],
    ['net.droppedRx.summation'],
    ['net.droppedTx.summation'],
  ],
  datastore: [['datastore.read.average'], ['datastore.write.average'], ['datastore.totalReadLatency.average'], ['datastore.totalWriteLatency.average']],
};

/** vCenter's default historical intervals (vcsim lists none; vscope then uses these, level 4). */
const historicalIntervals = [
  { periodSec: 300, lengthSec: 86_400 },
  { periodSec: 1800, lengthSec: 7 * 86_400 },
  { periodSec: 7200, lengthSec: 30 * 86_400 },
  { periodSec: 86_400, lengthSec: 365 * 86_400 },
] as const;

const entitiesPerQuery = 50;
const valuesPerQuery = 40_000;
const vmChunk = 500;
const realtimeSec = 20;
const realtimeHourSec = 3600;
const realtimeMaxSample = 180;
const skewSamples = 3;

interface MetricId {
  readonly counterId: number;
  readonly instance: string;
}

/** What the bound knows of the simulator after `surveyInventory`. */
export interface BoundInventory {
  readonly apiVersion: string;
  readonly refs: {
    readonly rootFolder: string;
    readonly propertyCollector: string;
    readonly viewManager: string;
    readonly perfManager: string;
    readonly sessionManager: string;
  };
  /** Datacenters in the order of their view, each with its VMs in the order of theirs. */
  readonly datacenters: readonly { readonly moRef: string; readonly vms: readonly string[] }[];
  /** Every host, datacenter by datacenter, with its vmnic devices. */
  readonly hosts: readonly { readonly moRef: string; readonly connected: boolean; readonly nics: readonly string[] }[];
  /** Every VM that is not a template, with its power state. */
  readonly vms: readonly { readonly moRef: string; readonly poweredOn: boolean }[];
  readonly datastores: readonly { readonly moRef: string; readonly accessible: boolean }[];
  readonly metricIds: { readonly host: readonly MetricId[]; readonly vm: readonly MetricId[]; readonly nic: readonly number[]; readonly datastore: readonly MetricId[] };
}

/** One HTTP/1.1 keep-alive connection to the SDK endpoint; calls are sent one at a time. */
export class Wire {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly url: URL;
  private cookie: string | null = null;
  /** Response bytes read, summed over calls. */
  bytesIn = 0;
  calls = 0;
  /** The `token` of the last RetrievePropertiesEx or ContinueRetrievePropertiesEx answer: more pages to read. */
  token: string | null = null;

  constructor(
    url: string,
    private readonly apiVersion = '6.5',
  ) {
    this.url = new URL(url);
    if (this.url.protocol !== 'http:') throw new Error('the bound speaks plain http (as vcsim serves it)');
  }

  /**
   * Sends one call and resolves once its response is read whole; its text only with `text`.
   * Rejects on any status but 200 (a SOAP fault is a 500).
   */
  send(method: string, inner: string, options: { readonly text?: boolean } = {}): Promise<string> {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
      'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      `<soapenv:Body><${method} xmlns="urn:vim25">${inner}</${method}></soapenv:Body></soapenv:Envelope>`;
    const headers: Record<string, string | number> = {
      'content-type': 'text/xml; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      soapaction: `urn:vim25/${this.apiVersion}`,
    };
    if (this.cookie !== null) headers['cookie'] = this.cookie;
    return new Promise((resolve, reject) => {
      const req = request(this.url, { method: 'POST', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        const keep = options.text === true || res.statusCode !== 200;
        // Where a page's token is, also when the text is not kept: before its objects (vim25's
        // order, which vcsim keeps), or after them (the tail, should a server put it last).
        let first: Buffer | null = null;
        let previous: Buffer | null = null;
        let last: Buffer | null = null;
        for (const line of res.headers['set-cookie'] ?? []) {
          const match = /^\s*(vmware_soap_session=[^;]*)/.exec(line);
          if (match?.[1]) this.cookie = match[1];
        }
        res.on('data', (chunk: Buffer) => {
          this.bytesIn += chunk.length;
          if (keep) chunks.push(chunk);
          first ??= chunk;
          previous = last;
          last = chunk;
        });
        res.on('error', reject);
        res.on('end', () => {
          this.calls++;
          const text = keep ? Buffer.concat(chunks).toString('utf8') : '';
          const tail = Buffer.concat([previous ?? Buffer.alloc(0), last ?? Buffer.alloc(0)]);
          const ends = `${(first ?? Buffer.alloc(0)).subarray(0, 4096).toString('latin1')} ${tail.subarray(Math.max(0, tail.length - 4096)).toString('latin1')}`;
          this.token = /<token>([^<]*)<\/token>/.exec(ends)?.[1] ?? null;
          if (res.statusCode !== 200) reject(new Error(`${method}: HTTP ${String(res.statusCode)} ${/<faultstring>([^<]*)/.exec(text)?.[1] ?? ''}`));
          else resolve(text);
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const ref = (tag: string, type: string, value: string): string => `<${tag} type="${type}">${escape(value)}</${tag}>`;
const time = (sec: number): string => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

function propSet(type: string, paths: readonly string[]): string {
  return `<propSet><type>${type}</type><all>false</all>${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet>`;
}

/**
 * RetrievePropertiesEx of `specSet` in pages of 1,000 objects, then ContinueRetrievePropertiesEx
 * while an answer holds a token (as a real vCenter pages, and tools/vcsim does): every page read.
 */
async function retrieveAll(wire: Wire, inv: BoundInventory, specSet: string, text: boolean): Promise<string> {
  const collector = ref('_this', 'PropertyCollector', inv.refs.propertyCollector);
  let all = await wire.send('RetrievePropertiesEx', `${collector}${specSet}<options><maxObjects>1000</maxObjects></options>`, { text });
  while (wire.token !== null) all += await wire.send('ContinueRetrievePropertiesEx', `${collector}<token>${escape(wire.token)}</token>`, { text });
  return all;
}

/** Retrieves `paths` of every `type` under `container` through a ContainerView: three calls and the pages. */
async function viaView(wire: Wire, inv: BoundInventory, containerType: string, container: string, type: string, paths: readonly string[], text = false): Promise<string> {
  const created = await wire.send(
    'CreateContainerView',
    ref('_this', 'ViewManager', inv.refs.viewManager) + ref('container', containerType, container) + `<type>${type}</type><recursive>true</recursive>`,
    { text: true },
  );
  const view = /<returnval[^>]*>([^<]+)<\/returnval>/.exec(created)?.[1];
  if (view === undefined) throw new Error('CreateContainerView returned no view');
  const objectSet =
    `<objectSet>${ref('obj', 'ContainerView', view)}<skip>true</skip>` +
    '<selectSet xsi:type="TraversalSpec"><name>view</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>';
  const result = await retrieveAll(wire, inv, `<specSet>${propSet(type, paths)}${objectSet}</specSet>`, text);
  await wire.send('DestroyView', ref('_this', 'ContainerView', view));
  return result;
}

async function propertiesOf(wire: Wire, inv: BoundInventory, type: string, moRefs: readonly string[], paths: readonly string[], text = false): Promise<string> {
  const objectSet = moRefs.map((value) => `<objectSet>${ref('obj', type, value)}</objectSet>`).join('');
  return retrieveAll(wire, inv, `<specSet>${propSet(type, paths)}${objectSet}</specSet>`, text);
}

async function login(wire: Wire, inv: BoundInventory, username: string, password: string): Promise<void> {
  await wire.send('RetrieveServiceContent', ref('_this', 'ServiceInstance', 'ServiceInstance'));
  await wire.send('Login', ref('_this', 'SessionManager', inv.refs.sessionManager) + `<userName>${escape(username)}</userName><password>${escape(password)}</password>`);
}

async function logout(wire: Wire, inv: BoundInventory): Promise<void> {
  await wire.send('Logout', ref('_this', 'SessionManager', inv.refs.sessionManager));
}

/** The objects of a RetrievePropertiesEx answer, as [moRef, its part of the text]. */
function objectsOf(text: string, type: string): [string, string][] {
  const marker = `<obj type="${type}">`;
  const parts = text.split(marker).slice(1);
  return parts.map((part) => [part.slice(0, part.indexOf('<')), part]);
}

function propValue(part: string, path: string): string | undefined {
  return new RegExp(`<name>${path.replace(/\./g, '\\.')}</name><val[^>]*>([^<]*)<`).exec(part)?.[1];
}

/**
 * Learns, untimed, what the bound's calls must name: the managers, datacenters, hosts (with
 * their vmnics), VMs and datastores in the order of their views, and the ids of the counters.
 */
export async function surveyInventory(url: string, username: string, password: string): Promise<BoundInventory> {
  const wire = new Wire(url);
  try {
    const content = await wire.send('RetrieveServiceContent', ref('_this', 'ServiceInstance', 'ServiceInstance'), { text: true });
    const manager = (field: string): string => {
      const value = new RegExp(`<${field} type="[^"]*">([^<]*)</${field}>`).exec(content)?.[1];
      if (value === undefined) throw new Error(`no ${field} in the ServiceContent`);
      return value;
    };
    const apiVersion = /<apiVersion>([^<]*)<\/apiVersion>/.exec(content)?.[1] ?? '6.5';
    const partial = {
      apiVersion,
      refs: {
        rootFolder: manager('rootFolder'),
        propertyCollector: manager('propertyCollector'),
        viewManager: manager('viewManager'),
        perfManager: manager('perfManager'),
        sessionManager: manager('sessionManager'),
      },
    };
    const empty: BoundInventory = { ...partial, datacenters: [], hosts: [], vms: [], datastores: [], metricIds: { host: [], vm: [], nic: [], datastore: [] } };
    await wire.send('Login', ref('_this', 'SessionManager', empty.refs.sessionManager) + `<userName>${escape(username)}</userName><password>${escape(password)}</password>`);

    const datacenters: { moRef: string; vms: string[] }[] = [];
    const hosts: { moRef: string; connected: boolean; nics: string[] }[] = [];
    const vms: { moRef: string; poweredOn: boolean }[] = [];
    const datastores: { moRef: string; accessible: boolean }[] = [];
    const dcText = await viaView(wire, empty, 'Folder', empty.refs.rootFolder, 'Datacenter', ['name'], true);
    for (const [dc] of objectsOf(dcText, 'Datacenter')) {
      const hostText = await viaView(wire, empty, 'Datacenter', dc, 'HostSystem', ['runtime.connectionState', 'config.network.pnic'], true);
      for (const [moRef, part] of objectsOf(hostText, 'HostSystem')) {
        if (hosts.some((h) => h.moRef === moRef)) continue;
        const nics = [...new Set([...part.matchAll(/<device>([^<]*)<\/device>/g)].map((m) => m[1] ?? ''))];
        nics.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
        hosts.push({ moRef, connected: propValue(part, 'runtime.connectionState') === 'connected', nics });
      }
      const listed = objectsOf(await viaView(wire, empty, 'Datacenter', dc, 'VirtualMachine', [], true), 'VirtualMachine').map(([moRef]) => moRef);
      const dcVms = [...new Set(listed)];
      datacenters.push({ moRef: dc, vms: dcVms });
      for (let i = 0; i < dcVms.length; i += vmChunk) {
        const text = await propertiesOf(wire, empty, 'VirtualMachine', dcVms.slice(i, i + vmChunk), ['runtime.powerState', 'summary.config.template'], true);
        for (const [moRef, part] of objectsOf(text, 'VirtualMachine')) {
          if (propValue(part, 'summary.config.template') === 'true') continue;
          vms.push({ moRef, poweredOn: propValue(part, 'runtime.powerState') === 'poweredOn' });
        }
      }
      const dsText = await viaView(wire, empty, 'Datacenter', dc, 'Datastore', ['summary.accessible'], true);
      for (const [moRef, part] of objectsOf(dsText, 'Datastore')) {
        if (!datastores.some((d) => d.moRef === moRef)) datastores.push({ moRef, accessible: propValue(part, 'summary.accessible') === 'true' });
      }
    }

    const catalogue = await propertiesOf(wire, empty, 'PerformanceManager', [empty.refs.perfManager], ['perfCounter'], true);
    const counters = new Map<string, { id: number; group: string }>();
    for (const part of catalogue.split('<PerfCounterInfo').slice(1)) {
      const id = Number(/<key>(\d+)<\/key>/.exec(part)?.[1]);
      const name = /<nameInfo[^>]*>.*?<key>([^<]*)<\/key>/.exec(part)?.[1];
      const group = /<groupInfo[^>]*>.*?<key>([^<]*)<\/key>/.exec(part)?.[1];
      const rollup = /<rollupType>([^<]*)<\/rollupType>/.exec(part)?.[1];
      if (name !== undefined && group !== undefined && rollup !== undefined && !counters.has(`${group}.${name}.${rollup}`)) {
        counters.set(`${group}.${name}.${rollup}`, { id, group });
      }
    }
    const resolve = (kind: keyof typeof counterNames): MetricId[] => {
      const out: MetricId[] = [];
      for (const candidates of counterNames[kind]) {
        const found = candidates.map((c) => counters.get(c)).find((c) => c !== undefined);
        if (found && !out.some((m) => m.counterId === found.id)) out.push({ counterId: found.id, instance: found.group === 'virtualDisk' ? '*' : '' });
      }
      return out;
    };
    await logout(wire, empty);
    return {
      ...partial,
      datacenters,
      hosts,
      vms,
      datastores,
      metricIds: { host: resolve('host'), vm: resolve('vm'), nic: resolve('nic').map((m) => m.counterId), datastore: resolve('datastore') },
    };
  } finally {
    wire.close();
  }
}

interface Spec {
  readonly type: string;
  readonly moRef: string;
  readonly metricIds: readonly MetricId[];
  readonly intervalSec: number;
  readonly startSec: number;
  readonly endSec?: number;
  readonly maxSample: number;
}

function specXml(spec: Spec): string {
  let xml = ref('entity', spec.type, spec.moRef) + `<startTime>${time(spec.startSec)}</startTime>`;
  if (spec.endSec !== undefined) xml += `<endTime>${time(spec.endSec)}</endTime>`;
  xml += `<maxSample>${String(spec.maxSample)}</maxSample>`;
  for (const m of spec.metricIds) xml += `<metricId><counterId>${String(m.counterId)}</counterId><instance>${escape(m.instance)}</instance></metricId>`;
  return `<querySpec>${xml}<intervalId>${String(spec.intervalSec)}</intervalId></querySpec>`;
}

/** Groups of at most 50 specs and (beyond the first) 40,000 values, like the collector's. */
function* groups(specs: Iterable<Spec>): Generator<Spec[]> {
  let current: Spec[] = [];
  let values = 0;
  for (const spec of specs) {
    const size = spec.metricIds.length * spec.maxSample;
    if (current.length > 0 && (current.length >= entitiesPerQuery || values + size > valuesPerQuery)) {
      yield current;
      current = [];
      values = 0;
    }
    current.push(spec);
    values += size;
  }
  if (current.length > 0) yield current;
}

async function queryPerf(wire: Wire, inv: BoundInventory, specs: Iterable<Spec>): Promise<number> {
  let calls = 0;
  for (const group of groups(specs)) {
    await wire.send('QueryPerf', ref('_this', 'PerformanceManager', inv.refs.perfManager) + group.map(specXml).join(''));
    calls++;
  }
  return calls;
}

function hostMetricIds(inv: BoundInventory, nics: readonly string[]): MetricId[] {
  return [...inv.metricIds.host, ...nics.flatMap((device) => inv.metricIds.nic.map((counterId) => ({ counterId, instance: device })))];
}

/** Realtime window from a mark, as the collector computes it: every sample since, at most the hour. */
function realtimeWindow(markSec: number | undefined, nowSec: number): { startSec: number; maxSample: number } {
  const oldest = nowSec - realtimeHourSec;
  const startSec = markSec === undefined || markSec < oldest ? oldest : Math.min(markSec, nowSec);
  return { startSec, maxSample: Math.min(realtimeMaxSample, Math.ceil(Math.max(0, nowSec - startSec) / realtimeSec) + 1 + skewSamples) };
}

function cpuSecSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Math.round((used.user + used.system) / 10_000) / 100;
}

export interface BoundRun {
  readonly ms: number;
  /** CPU of this process (user + system) over the run, seconds: what receiving the bytes costs Node. */
  readonly cpuSec: number;
  readonly calls: number;
  readonly bytesIn: number;
  /** Samples per entity vcsim returns for these windows (1 + span / 20), averaged over the realtime entities. */
  readonly samplesPerEntity: number;
}

/**
 * The calls of one steady cycle of a new `vscope collect --once` process: the session,
 * discovery (views, VM properties 500 at a time), the counter catalogue and intervals (a new
 * process asks them once), the realtime samples since each entity's mark, the datastores' newest
 * 5-minute sample, the logout. `marks` (entity moRef -> unix seconds of its newest sample, as
 * the previous run left it) is moved forward to the time each query is sent.
 */
export async function steadyCycle(url: string, username: string, password: string, inv: BoundInventory, marks: Map<string, number>): Promise<BoundRun> {
  const wire = new Wire(url, inv.apiVersion);
  const started = performance.now();
  const cpu = process.cpuUsage();
  let samples = 0;
  let entities = 0;
  try {
    await login(wire, inv, username, password);
    await viaView(wire, inv, 'Folder', inv.refs.rootFolder, 'Datacenter', ['name']);
    for (const dc of inv.datacenters) {
      await viaView(wire, inv, 'Datacenter', dc.moRef, 'ClusterComputeResource', ['name']);
      await viaView(wire, inv, 'Datacenter', dc.moRef, 'HostSystem', boundPaths.host);
      await viaView(wire, inv, 'Datacenter', dc.moRef, 'VirtualMachine', []);
      for (let i = 0; i < dc.vms.length; i += vmChunk) await propertiesOf(wire, inv, 'VirtualMachine', dc.vms.slice(i, i + vmChunk), boundPaths.vm);
      await viaView(wire, inv, 'Datacenter', dc.moRef, 'Datastore', boundPaths.datastore);
    }
    await propertiesOf(wire, inv, 'PerformanceManager', [inv.refs.perfManager], ['perfCounter']);
    await propertiesOf(wire, inv, 'PerformanceManager', [inv.refs.perfManager], ['historicalInterval']);

    const nowSec = Math.floor(Date.now() / 1000);
    const realtime = function* (): Generator<Spec> {
      const window = (moRef: string): { startSec: number; maxSample: number } => {
        const w = realtimeWindow(marks.get(moRef), nowSec);
        samples += 1 + Math.floor((nowSec - w.startSec) / realtimeSec);
        entities++;
        marks.set(moRef, Math.floor(Date.now() / 1000));
        return w;
      };
      for (const host of inv.hosts) {
        if (host.connected) yield { type: 'HostSystem', moRef: host.moRef, metricIds: hostMetricIds(inv, host.nics), intervalSec: realtimeSec, ...window(host.moRef) };
      }
      for (const vm of inv.vms) {
        if (vm.poweredOn) yield { type: 'VirtualMachine', moRef: vm.moRef, metricIds: inv.metricIds.vm, intervalSec: realtimeSec, ...window(vm.moRef) };
      }
    };
    await queryPerf(wire, inv, realtime());
    // A new process has seen no datastore sample yet: the newest one only.
    const datastoreIo = inv.datastores
      .filter((ds) => ds.accessible)
      .map((ds): Spec => ({ type: 'Datastore', moRef: ds.moRef, metricIds: inv.metricIds.datastore, intervalSec: 300, startSec: nowSec - 600, maxSample: 1 }));
    await queryPerf(wire, inv, datastoreIo);
    await logout(wire, inv);
    return { ms: performance.now() - started, cpuSec: cpuSecSince(cpu), calls: wire.calls, bytesIn: wire.bytesIn, samplesPerEntity: entities > 0 ? samples / entities : 0 };
  } finally {
    wire.close();
  }
}

/**
 * The calls of the history import of a first start, as history-import.ts makes them: entities
 * 200 at a time (hosts, VMs that are not templates, datastores), for each the realtime hour
 * (connected hosts and running VMs; with `realtimeHour`) and then every default historical
 * interval over its whole length, each query of at most 40,000 values.
 */
export async function historyImport(url: string, username: string, password: string, inv: BoundInventory, realtimeHour: boolean): Promise<BoundRun> {
  const wire = new Wire(url, inv.apiVersion);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const nowSec = Math.floor(Date.now() / 1000);
  type Target = { type: string; moRef: string; metricIds: readonly MetricId[]; realtime: boolean };
  const targets: Target[] = [
    ...inv.hosts.map((h) => ({ type: 'HostSystem', moRef: h.moRef, metricIds: hostMetricIds(inv, h.nics), realtime: h.connected })),
    ...inv.vms.map((v) => ({ type: 'VirtualMachine', moRef: v.moRef, metricIds: inv.metricIds.vm, realtime: v.poweredOn })),
    ...inv.datastores.map((d) => ({ type: 'Datastore', moRef: d.moRef, metricIds: inv.metricIds.datastore, realtime: false })),
  ];
  try {
    await login(wire, inv, username, password);
    const perStep = entitiesPerQuery * 4;
    for (let i = 0; i < targets.length; i += perStep) {
      const chunk = targets.slice(i, i + perStep);
      if (realtimeHour) {
        await queryPerf(
          wire,
          inv,
          chunk
            .filter((t) => t.realtime)
            .map((t): Spec => ({ ...t, intervalSec: realtimeSec, startSec: nowSec - realtimeHourSec, endSec: nowSec, maxSample: realtimeMaxSample })),
        );
      }
      for (const interval of historicalIntervals) {
        await queryPerf(
          wire,
          inv,
          chunk.map((t): Spec => ({
            ...t,
            intervalSec: interval.periodSec,
            startSec: nowSec - interval.lengthSec,
            endSec: nowSec,
            maxSample: Math.ceil(interval.lengthSec / interval.periodSec),
          })),
        );
      }
    }
    await logout(wire, inv);
    return { ms: performance.now() - started, cpuSec: cpuSecSince(cpu), calls: wire.calls, bytesIn: wire.bytesIn, samplesPerEntity: 0 };
  } finally {
    wire.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url, username = 'bound', password = 'bound'] = process.argv.slice(2);
  if (url === undefined) throw new Error('usage: soap-bound.ts http://HOST:PORT/sdk [user] [password]');
  const inventory = await surveyInventory(url, username, password);
  const marks = new Map<string, number>();
  const first = Math.floor(Date.now() / 1000) - realtimeSec;
  for (const h of inventory.hosts) marks.set(h.moRef, first);
  for (const v of inventory.vms) marks.set(v.moRef, first);
  const run = await steadyCycle(url, username, password, inventory, marks);
  console.log(JSON.stringify({ hosts: inventory.hosts.length, vms: inventory.vms.length, datastores: inventory.datastores.length, ...run }));
}
