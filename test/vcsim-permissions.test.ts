/**
 * The simulator harness itself: tools/vcsim's -permissions model and RetrievePropertiesEx
 * paging, checked with hand-written SOAP envelopes (never through src/vsphere, the code this
 * harness judges).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { useVcsim } from './support/vcsim.ts';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startVcsim, vcsimBinary, type VcsimOptions, type VcsimPermissions } from '../src/simulator/vcsim.ts';

const admin = { name: 'vc-admin', password: 'Adm1n-pw' };
// Every assert.ok has a message: without one, node 20 re-reads the (transpiled, one-line)
// source to describe the failure and can spin for minutes.
// Per datacenter: 2 clusters of 2 hosts, 10 VMs in each cluster's root pool: 40 VMs, 8 hosts.
const inventory: VcsimOptions = { datacenters: 2, clusters: 2, hostsPerCluster: 2, standaloneHosts: 0, vmsPerPool: 10, datastores: 1 };
const permissions: VcsimPermissions = {
  users: [
    { name: 'alice', password: 'alice-pw', groups: ['team-a'] },
    { name: 'bob', password: 'bob-pw', groups: ['team-b'] },
    { name: 'carol', password: 'carol-pw' },
    { name: 'dave', password: 'dave-pw' },
    { name: 'erin', password: 'erin-pw' },
    { name: 'frank', password: 'frank-pw', groups: ['team-c', 'team-d'] },
    { name: 'gina', password: 'gina-pw' },
    { name: 'hank', password: 'hank-pw' },
    { name: 'ivan', password: 'ivan-pw' },
  ],
  permissions: [
    { entity: 'DC0_C0', principal: 'alice', role: 'ReadOnly', propagate: true },
    { entity: 'DC0_C0_RP0_VM1', principal: 'alice', role: 'NoAccess', propagate: false },
    { entity: '/DC1', group: 'team-b', role: 'ReadOnly', propagate: true },
    { entity: '/DC0/vm/DC0_C1_RP0_VM0', principal: 'dave', role: 'ReadOnly', propagate: false },
    // frank: his own NoAccess beats his group's ReadOnly; two groups add up.
    { entity: '/DC1/host/DC1_C0', group: 'team-c', role: 'ReadOnly' },
    { entity: '/DC1/host/DC1_C0', principal: 'frank', role: 'NoAccess' },
    { entity: '/DC1/host/DC1_C1', group: 'team-c', role: 'NoAccess' },
    { entity: '/DC1/host/DC1_C1', group: 'team-d', role: 'ReadOnly' },
    // gina: ReadOnly through the VM folder, NoAccess through the cluster: VMs stay readable.
    { entity: '/DC0/vm', principal: 'gina', role: 'ReadOnly' },
    { entity: 'DC0_C0', principal: 'gina', role: 'NoAccess' },
    // ivan: a cluster without its descendants, and one host of another cluster.
    { entity: '/DC1/host/DC1_C0', principal: 'ivan', role: 'ReadOnly', propagate: false },
    { entity: '/DC1/host/DC1_C1/DC1_C1_H0', principal: 'ivan', role: 'ReadOnly' },
  ],
};
const sim = useVcsim({ ...inventory, username: admin.name, password: admin.password, permissions });
const plain = useVcsim({ ...inventory, username: admin.name, password: admin.password });

type XmlNode = Record<string, unknown>;
interface MoRef {
  readonly type: string;
  readonly value: string;
}
interface Content {
  readonly obj: MoRef;
  readonly props: Record<string, unknown>;
  /** Path -> fault type, and the fault itself. */
  readonly missing: Record<string, { type: string; fault: XmlNode }>;
}

const arrays = new Set(['objects', 'propSet', 'missingSet', 'ManagedObjectReference', 'returnval', 'privAvailability', 'filterSet', 'objectSet', 'changeSet', 'privileges', 'int']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => arrays.has(name),
});

/** The xsi:type of an element, whatever prefix the server bound the namespace to. */
function xsiType(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  for (const [key, value] of Object.entries(node)) if (key.startsWith('@') && key.endsWith(':type')) return String(value);
  return undefined;
}

function text(node: unknown): string {
  if (typeof node === 'string') return node;
  if (typeof node === 'object' && node !== null && '#text' in node) return String((node as XmlNode)['#text']);
  return '';
}

function moRef(node: unknown): MoRef {
  const n = node as XmlNode;
  return { type: String(n['@type']), value: text(n) };
}

function refs(node: unknown): MoRef[] {
  const list = (node as XmlNode | undefined)?.['ManagedObjectReference'];
  return Array.isArray(list) ? list.map(moRef) : [];
}

const key = (ref: MoRef): string => `${ref.type}:${ref.value}`;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const refXml = (tag: string, ref: MoRef): string => `<${tag} type="${ref.type}">${esc(ref.value)}</${tag}>`;

class SoapFault extends Error {
  constructor(
    readonly faultType: string,
    readonly detail: XmlNode,
    message: string,
  ) {
    super(`${faultType}: ${message}`);
  }
}

const PC: MoRef = { type: 'PropertyCollector', value: 'propertyCollector' };
const ROOT: MoRef = { type: 'Folder', value: 'group-d1' };
const VIEW_MANAGER: MoRef = { type: 'ViewManager', value: 'ViewManager' };
const AUTH: MoRef = { type: 'AuthorizationManager', value: 'AuthorizationManager' };

/** One SOAP session: a cookie and hand-written envelopes. */
class Session {
  cookie = '';
  key = '';
  userName = '';

  constructor(readonly url: string) {}

  async call(method: string, thisRef: MoRef, args = ''): Promise<XmlNode> {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
      'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' +
      `<${method} xmlns="urn:vim25">${refXml('_this', thisRef)}${args}</${method}></soapenv:Body></soapenv:Envelope>`;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'urn:vim25/7.0', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body,
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
    const parsed = parser.parse(await response.text()) as XmlNode;
    const envelope = (parsed['soapenv:Envelope'] as XmlNode)['soapenv:Body'] as XmlNode;
    const fault = envelope['soapenv:Fault'] as XmlNode | undefined;
    if (fault) {
      const detail = (fault['detail'] ?? {}) as XmlNode;
      const [name, inner] = Object.entries(detail)[0] ?? ['UnknownFault', {}];
      throw new SoapFault(xsiType(inner) ?? name.replace(/Fault$/, ''), (inner ?? {}) as XmlNode, text(fault['faultstring']));
    }
    assert.equal(response.status, 200);
    return (envelope[`${method}Response`] ?? {}) as XmlNode;
  }

  async login(name: string, password: string): Promise<this> {
    const res = await this.call('Login', { type: 'SessionManager', value: 'SessionManager' }, `<userName>${esc(name)}</userName><password>${esc(password)}</password>`);
    const session = (res['returnval'] as XmlNode[])[0] ?? {};
    this.key = text(session['key']);
    this.userName = text(session['userName']);
    return this;
  }

  async containerView(type: string, container: MoRef = ROOT): Promise<MoRef> {
    const res = await this.call('CreateContainerView', VIEW_MANAGER, `${refXml('container', container)}<type>${type}</type><recursive>true</recursive>`);
    return moRef((res['returnval'] as unknown[])[0]);
  }
}

async function login(url: string, name: string, password: string): Promise<Session> {
  return new Session(url).login(name, password);
}

function propSetXml(type: string, paths: readonly string[]): string {
  return `<propSet><type>${type}</type>${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet>`;
}

function viewSpecXml(view: MoRef, type: string, paths: readonly string[]): string {
  return (
    `<specSet>${propSetXml(type, paths)}<objectSet>${refXml('obj', view)}<skip>true</skip>` +
    '<selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></specSet>'
  );
}

function objectsSpecXml(objs: readonly MoRef[], type: string, paths: readonly string[]): string {
  return `<specSet>${propSetXml(type, paths)}${objs.map((o) => `<objectSet>${refXml('obj', o)}</objectSet>`).join('')}</specSet>`;
}

function contents(result: XmlNode | undefined): Content[] {
  const objects = (result?.['objects'] ?? []) as XmlNode[];
  return objects.map((o) => {
    const props: Record<string, unknown> = {};
    for (const p of (o['propSet'] ?? []) as XmlNode[]) props[text(p['name'])] = p['val'];
    const missing: Content['missing'] = {};
    for (const m of (o['missingSet'] ?? []) as XmlNode[]) {
      const fault = ((m['fault'] as XmlNode)['fault'] ?? {}) as XmlNode;
      missing[text(m['path'])] = { type: xsiType(fault) ?? '', fault };
    }
    return { obj: moRef(o['obj']), props, missing };
  });
}

interface Page {
  readonly objects: Content[];
  readonly token: string | null;
  /** false when the response had no returnval at all. */
  readonly returned: boolean;
}

function page(res: XmlNode): Page {
  const result = (res['returnval'] as XmlNode[] | undefined)?.[0];
  const token = result?.['token'];
  return { objects: contents(result), token: token === undefined ? null : text(token), returned: result !== undefined };
}

async function retrieveEx(s: Session, specSet: string, maxObjects?: number): Promise<Page> {
  const options = maxObjects === undefined ? '' : `<options><maxObjects>${maxObjects}</maxObjects></options>`;
  return page(await s.call('RetrievePropertiesEx', PC, specSet + options));
}

async function continueEx(s: Session, token: string): Promise<Page> {
  return page(await s.call('ContinueRetrievePropertiesEx', PC, `<token>${esc(token)}</token>`));
}

/** Every object of `type` the session sees through a recursive ContainerView on the root, all pages. */
async function everything(s: Session, type: string, paths: readonly string[] = ['name'], maxObjects = 1000): Promise<Content[]> {
  const view = await s.containerView(type);
  let current = await retrieveEx(s, viewSpecXml(view, type, paths), maxObjects);
  const all = [...current.objects];
  while (current.token !== null) {
    current = await continueEx(s, current.token);
    all.push(...current.objects);
  }
  await s.call('DestroyView', view);
  return all;
}

const names = (objects: readonly Content[]): string[] => objects.map((o) => text(o.props['name'])).sort();

/** The inventory as the administrator sees it: inventory path -> moRef. */
async function inventoryPaths(url: string): Promise<Map<string, MoRef>> {
  const s = await login(url, admin.name, admin.password);
  const all = await everything(s, 'ManagedEntity', ['name', 'parent']);
  const byKey = new Map(all.map((o) => [key(o.obj), o]));
  const paths = new Map<string, MoRef>();
  for (const o of all) {
    const parts: string[] = [];
    for (let at: Content | undefined = o; at; ) {
      parts.unshift(text(at.props['name']));
      const parent: unknown = at.props['parent'];
      at = parent === undefined ? undefined : byKey.get(key(moRef(parent)));
    }
    paths.set('/' + parts.join('/'), o.obj);
  }
  return paths;
}

function pathOf(paths: Map<string, MoRef>, path: string): MoRef {
  const ref = paths.get(path);
  assert.ok(ref, `no entity at ${path}`);
  return ref;
}

async function assertFault(promise: Promise<unknown>, faultType: string): Promise<SoapFault> {
  let caught: unknown;
  await promise.catch((error: unknown) => {
    caught = error;
  });
  assert.ok(caught instanceof SoapFault, `expected a ${faultType} fault, got ${String(caught)}`);
  assert.equal(caught.faultType, faultType, caught.message);
  return caught;
}

function granted(res: XmlNode): Map<string, Record<string, boolean>> {
  const result = new Map<string, Record<string, boolean>>();
  for (const e of (res['returnval'] ?? []) as XmlNode[]) {
    const privs: Record<string, boolean> = {};
    for (const a of (e['privAvailability'] ?? []) as XmlNode[]) privs[text(a['privId'])] = text(a['isGranted']) === 'true';
    result.set(key(moRef(e['entity'])), privs);
  }
  return result;
}

function hasUserPrivilegeXml(entities: readonly MoRef[], user: string, privs: readonly string[]): string {
  return entities.map((e) => refXml('entities', e)).join('') + `<userName>${esc(user)}</userName>` + privs.map((p) => `<privId>${p}</privId>`).join('');
}

const clusterVms = (dc: number, cluster: number, except: number[] = []): string[] =>
  Array.from({ length: 10 }, (_, i) => i)
    .filter((i) => !except.includes(i))
    .map((i) => `DC${dc}_C${cluster}_RP0_VM${i}`)
    .sort();

void describe('vcsim -permissions', () => {
  void it('lets each account log in with its own password only, and names the session after the user', async () => {
    const url = sim.current.url;
    const alice = await login(url, 'alice', 'alice-pw');
    assert.equal(alice.userName, 'alice');
    assert.match(alice.key, /\S+/);
    assert.equal((await login(url, admin.name, admin.password)).userName, admin.name);
    await assertFault(login(url, 'alice', 'bob-pw'), 'InvalidLogin');
    await assertFault(login(url, 'bob', 'alice-pw'), 'InvalidLogin');
    await assertFault(login(url, 'alice', admin.password), 'InvalidLogin');
    await assertFault(login(url, admin.name, 'alice-pw'), 'InvalidLogin');
    await assertFault(login(url, 'nobody', 'alice-pw'), 'InvalidLogin');
  });

  void it('shows the administrator the whole inventory', async () => {
    const s = await login(sim.current.url, admin.name, admin.password);
    assert.equal((await everything(s, 'VirtualMachine')).length, 40);
    assert.equal((await everything(s, 'HostSystem')).length, 8);
    const dcs = await everything(s, 'Datacenter', ['name', 'overallStatus']);
    assert.deepEqual(names(dcs), ['DC0', 'DC1']);
    for (const dc of dcs) assert.deepEqual(dc.missing, {});
  });

  void it('shows a user with ReadOnly on a cluster its hosts and VMs, not the other cluster', async () => {
    const s = await login(sim.current.url, 'alice', 'alice-pw');
    assert.deepEqual(names(await everything(s, 'HostSystem')), ['DC0_C0_H0', 'DC0_C0_H1']);
    assert.deepEqual(names(await everything(s, 'VirtualMachine', ['name', 'runtime.powerState'])), clusterVms(0, 0, [1]));
    const vms = await everything(s, 'VirtualMachine', ['name', 'runtime.powerState']);
    for (const vm of vms) assert.equal(text(vm.props['runtime.powerState']), 'poweredOn');
    assert.deepEqual(names(await everything(s, 'ClusterComputeResource')), ['DC0_C0']);
  });

  void it('gives a group permission to the group members', async () => {
    const s = await login(sim.current.url, 'bob', 'bob-pw');
    assert.deepEqual(names(await everything(s, 'VirtualMachine')), [...clusterVms(1, 0), ...clusterVms(1, 1)].sort());
    assert.deepEqual(names(await everything(s, 'HostSystem')), ['DC1_C0_H0', 'DC1_C0_H1', 'DC1_C1_H0', 'DC1_C1_H1']);
    assert.deepEqual(names(await everything(s, 'Datastore')), ['LocalDS_0']);
  });

  void it("puts a user's own permission before their groups', and adds up several groups'", async () => {
    const s = await login(sim.current.url, 'frank', 'frank-pw');
    // DC1_C0: team-c ReadOnly, frank NoAccess: hidden. DC1_C1: team-c NoAccess + team-d ReadOnly: readable.
    assert.deepEqual(names(await everything(s, 'HostSystem')), ['DC1_C1_H0', 'DC1_C1_H1']);
    assert.deepEqual(names(await everything(s, 'VirtualMachine')), clusterVms(1, 1));
  });

  void it('hides an object under NoAccess below a ReadOnly, even asked for by its moRef', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const vm1 = pathOf(paths, '/DC0/vm/DC0_C0_RP0_VM1');
    const vm2 = pathOf(paths, '/DC0/vm/DC0_C0_RP0_VM2');
    const s = await login(sim.current.url, 'alice', 'alice-pw');
    assert.deepEqual(names(await everything(s, 'VirtualMachine')), clusterVms(0, 0, [1]));
    const direct = await retrieveEx(s, objectsSpecXml([vm1, vm2], 'VirtualMachine', ['name']));
    assert.deepEqual(names(direct.objects), ['DC0_C0_RP0_VM2']);
  });

  void it('gives a VM the union of its folder chain and its resource pool chain', async () => {
    const s = await login(sim.current.url, 'gina', 'gina-pw');
    // ReadOnly on DC0's VM folder, NoAccess on DC0_C0: every DC0 VM stays readable...
    assert.deepEqual(names(await everything(s, 'VirtualMachine')), [...clusterVms(0, 0), ...clusterVms(0, 1)].sort());
    // ...but DC0_C0's hosts are not, nor is anything of DC1.
    assert.deepEqual(names(await everything(s, 'HostSystem')), []);
  });

  void it('applies a permission that does not propagate to its entity only', async () => {
    const s = await login(sim.current.url, 'ivan', 'ivan-pw');
    assert.deepEqual(names(await everything(s, 'HostSystem')), ['DC1_C1_H0']);
    assert.deepEqual(names(await everything(s, 'VirtualMachine')), []);
    const clusters = await everything(s, 'ClusterComputeResource', ['name', 'summary']);
    const summaryOf = new Map(clusters.map((c) => [text(c.props['name']), c.props['summary'] === undefined ? c.missing['summary']?.type : 'read']));
    // DC1_C0 is readable itself; DC1_C1 only shows as the parent of a readable host.
    assert.deepEqual(Object.fromEntries(summaryOf), { DC1_C0: 'read', DC1_C1: 'NoPermission' });
  });

  void it('follows a traversal only through properties the user may read', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const cluster = pathOf(paths, '/DC1/host/DC1_C1');
    const viaHost =
      `<specSet>${propSetXml('HostSystem', ['name'])}<objectSet>${refXml('obj', cluster)}<skip>true</skip>` +
      '<selectSet xsi:type="TraversalSpec"><type>ClusterComputeResource</type><path>host</path><skip>false</skip></selectSet></objectSet></specSet>';
    const a = await login(sim.current.url, admin.name, admin.password);
    assert.deepEqual(names((await retrieveEx(a, viaHost)).objects), ['DC1_C1_H0', 'DC1_C1_H1']);
    // For ivan the cluster is view-only: its host list needs System.Read, so nothing is reached...
    const s = await login(sim.current.url, 'ivan', 'ivan-pw');
    assert.equal((await retrieveEx(s, viaHost)).returned, false);
    // ...while a ContainerView on it still lists the one host he may read.
    const view = await s.containerView('HostSystem', cluster);
    assert.deepEqual(names((await retrieveEx(s, viewSpecXml(view, 'HostSystem', ['name']))).objects), ['DC1_C1_H0']);
  });

  void it('shows a user with no permission nothing: a ContainerView over the root is empty', async () => {
    const s = await login(sim.current.url, 'carol', 'carol-pw');
    const view = await s.containerView('ManagedEntity');
    const viewItself = await retrieveEx(s, objectsSpecXml([view], 'ContainerView', ['view']));
    assert.equal(viewItself.objects.length, 1);
    assert.deepEqual(refs(viewItself.objects[0]?.props['view']), []);
    const through = await retrieveEx(s, viewSpecXml(view, 'ManagedEntity', ['name']));
    assert.equal(through.returned, false, 'vCenter sends no returnval when nothing matched');
    assert.deepEqual((await retrieveEx(s, objectsSpecXml([ROOT], 'Folder', ['name']))).objects, []);
  });

  void it('shows view-only ancestors with their System.View properties only, NoPermission for the rest', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const dc0 = pathOf(paths, '/DC0');
    const cluster = pathOf(paths, '/DC0/host/DC0_C1');
    const s = await login(sim.current.url, 'dave', 'dave-pw');
    assert.deepEqual(names(await everything(s, 'VirtualMachine')), ['DC0_C1_RP0_VM0']);

    const [dc] = (await retrieveEx(s, objectsSpecXml([dc0], 'Datacenter', ['name', 'overallStatus', 'vmFolder', 'datastore']))).objects;
    assert.ok(dc, 'the view-only datacenter is returned');
    assert.equal(text(dc.props['name']), 'DC0');
    assert.equal(moRef(dc.props['vmFolder']).value, pathOf(paths, '/DC0/vm').value);
    assert.deepEqual(Object.keys(dc.props).sort(), ['name', 'vmFolder']);
    assert.deepEqual(Object.keys(dc.missing).sort(), ['datastore', 'overallStatus']);
    for (const missing of Object.values(dc.missing)) {
      assert.equal(missing.type, 'NoPermission');
      assert.deepEqual(moRef(missing.fault['object']), dc0);
      assert.equal(text(missing.fault['privilegeId']), 'System.Read');
    }

    const [c] = (await retrieveEx(s, objectsSpecXml([cluster], 'ClusterComputeResource', ['name', 'resourcePool', 'host', 'summary']))).objects;
    assert.ok(c, 'the view-only cluster is returned');
    assert.deepEqual(Object.keys(c.props).sort(), ['name', 'resourcePool']);
    assert.deepEqual(Object.keys(c.missing).sort(), ['host', 'summary']);
    // The cluster's hosts are not readable, so not visible.
    assert.deepEqual(names(await everything(s, 'HostSystem')), []);
  });

  void it('lists only visible objects in Folder.childEntity and ContainerView.view', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const s = await login(sim.current.url, 'alice', 'alice-pw');
    const folders = [pathOf(paths, '/DC0/vm'), pathOf(paths, '/DC0/host'), ROOT];
    const byFolder = new Map((await retrieveEx(s, objectsSpecXml(folders, 'Folder', ['childEntity']))).objects.map((o) => [key(o.obj), o]));
    const vmNames = new Map([...paths].map(([path, ref]) => [key(ref), path.split('/').pop() ?? '']));
    const childNames = (folder: MoRef): string[] => refs(byFolder.get(key(folder))?.props['childEntity']).map((r) => vmNames.get(key(r)) ?? '?').sort();
    assert.deepEqual(childNames(pathOf(paths, '/DC0/vm')), clusterVms(0, 0, [1]));
    assert.deepEqual(childNames(pathOf(paths, '/DC0/host')), ['DC0_C0']);
    assert.deepEqual(childNames(ROOT), ['DC0']);

    const view = await s.containerView('VirtualMachine');
    const [v] = (await retrieveEx(s, objectsSpecXml([view], 'ContainerView', ['view']))).objects;
    assert.deepEqual(refs(v?.props['view']).map((r) => vmNames.get(key(r))).sort(), clusterVms(0, 0, [1]));

    // A traversal through childEntity reaches only visible objects too.
    const folderWalk =
      `<specSet>${propSetXml('VirtualMachine', ['name'])}<objectSet>${refXml('obj', pathOf(paths, '/DC0/vm'))}<skip>true</skip>` +
      '<selectSet xsi:type="TraversalSpec"><type>Folder</type><path>childEntity</path><skip>false</skip></selectSet></objectSet></specSet>';
    assert.deepEqual(names((await retrieveEx(s, folderWalk)).objects), clusterVms(0, 0, [1]));
  });

  void it('answers HasUserPrivilegeOnEntities and HasPrivilegeOnEntities from the same model', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const vm0 = pathOf(paths, '/DC0/vm/DC0_C0_RP0_VM0');
    const vm1 = pathOf(paths, '/DC0/vm/DC0_C0_RP0_VM1');
    const dc0 = pathOf(paths, '/DC0');
    const s = await login(sim.current.url, 'alice', 'alice-pw');
    const privs = ['System.Read', 'System.View', 'VirtualMachine.Interact.PowerOn'];

    const mine = granted(await s.call('HasUserPrivilegeOnEntities', AUTH, hasUserPrivilegeXml([vm0, dc0], 'alice', privs)));
    assert.deepEqual(mine.get(key(vm0)), { 'System.Read': true, 'System.View': true, 'VirtualMachine.Interact.PowerOn': false });
    assert.deepEqual(mine.get(key(dc0)), { 'System.Read': false, 'System.View': true, 'VirtualMachine.Interact.PowerOn': false });
    const hidden = await assertFault(s.call('HasUserPrivilegeOnEntities', AUTH, hasUserPrivilegeXml([vm0, vm1], 'alice', privs)), 'NoPermission');
    assert.deepEqual(moRef(hidden.detail['object']), vm1);
    assert.equal(text(hidden.detail['privilegeId']), 'System.View');

    // The administrator asks about alice: the hidden VM is simply not granted.
    const a = await login(sim.current.url, admin.name, admin.password);
    const asked = granted(await a.call('HasUserPrivilegeOnEntities', AUTH, hasUserPrivilegeXml([vm1], 'alice', ['System.View'])));
    assert.deepEqual(asked.get(key(vm1)), { 'System.View': false });

    const ownSession = (entity: MoRef, session: Session): string => `${refXml('entity', entity)}<sessionId>${session.key}</sessionId><privId>System.Read</privId>`;
    assert.deepEqual(granted(await s.call('HasPrivilegeOnEntities', AUTH, ownSession(vm0, s))).get(key(vm0)), { 'System.Read': true });
    // System.Read needed on the entity; another session's privileges need Sessions.ValidateSession.
    await assertFault(s.call('HasPrivilegeOnEntities', AUTH, ownSession(dc0, s)), 'NoPermission');
    const bob = await login(sim.current.url, 'bob', 'bob-pw');
    await assertFault(s.call('HasPrivilegeOnEntities', AUTH, ownSession(vm0, bob)), 'NoPermission');
    assert.deepEqual(granted(await a.call('HasPrivilegeOnEntities', AUTH, ownSession(vm0, bob))).get(key(vm0)), { 'System.Read': false });
    assert.deepEqual(granted(await a.call('HasPrivilegeOnEntities', AUTH, ownSession(vm0, s))).get(key(vm0)), { 'System.Read': true });

    const fetched = (await s.call('FetchUserPrivilegeOnEntities', AUTH, `${refXml('entities', vm0)}${refXml('entities', dc0)}<userName>alice</userName>`))['returnval'] as XmlNode[];
    const privilegesOf = new Map(fetched.map((r) => [key(moRef(r['entity'])), ((r['privileges'] ?? []) as unknown[]).map(text)]));
    assert.deepEqual(privilegesOf.get(key(vm0)), ['System.Anonymous', 'System.Read', 'System.View']);
    assert.deepEqual(privilegesOf.get(key(dc0)), ['System.Anonymous', 'System.View']);
  });

  void it('lists the permissions on what the caller may read (RetrieveAllPermissions)', async () => {
    const line = (p: XmlNode): string => `${text(p['principal'])}${text(p['group']) === 'true' ? ' (group)' : ''} ${text(p['roleId'])}`;
    const all = async (s: Session): Promise<string[]> => ((await s.call('RetrieveAllPermissions', AUTH))['returnval'] as XmlNode[]).map(line);
    const everyone = await all(await login(sim.current.url, admin.name, admin.password));
    assert.ok(everyone.includes(`${admin.name} -1`), 'the administrator is Admin on the root folder');
    assert.ok(everyone.includes('alice -2') && everyone.includes('alice -5') && everyone.includes('team-b (group) -2'), everyone.join(', '));
    // alice reads DC0_C0 (her ReadOnly, gina's NoAccess) but neither the root folder nor her NoAccess VM.
    assert.deepEqual((await all(await login(sim.current.url, 'alice', 'alice-pw'))).sort(), ['alice -2', 'gina -5']);
  });

  void it('applies SetEntityPermissions by the administrator on the next call, and refuses it to others', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const cluster = pathOf(paths, '/DC1/host/DC1_C1');
    const erin = await login(sim.current.url, 'erin', 'erin-pw');
    assert.deepEqual(names(await everything(erin, 'VirtualMachine')), []);

    const grant = `${refXml('entity', cluster)}<permission><principal>erin</principal><group>false</group><roleId>-2</roleId><propagate>true</propagate></permission>`;
    const alice = await login(sim.current.url, 'alice', 'alice-pw');
    const refused = await assertFault(alice.call('SetEntityPermissions', AUTH, grant), 'NoPermission');
    assert.equal(text(refused.detail['privilegeId']), 'Authorization.ModifyPermissions');
    assert.deepEqual(names(await everything(erin, 'VirtualMachine')), []);

    const a = await login(sim.current.url, admin.name, admin.password);
    await a.call('SetEntityPermissions', AUTH, grant);
    assert.deepEqual(names(await everything(erin, 'VirtualMachine')), clusterVms(1, 1));
    const erinsOn = async (): Promise<string[]> => {
      const set = (await a.call('RetrieveEntityPermissions', AUTH, `${refXml('entity', cluster)}<inherited>false</inherited>`))['returnval'] as XmlNode[];
      return set.filter((p) => text(p['principal']) === 'erin').map((p) => `${text(p['roleId'])} ${text(p['propagate'])}`);
    };
    assert.deepEqual(await erinsOn(), ['-2 true']);

    await assertFault(alice.call('RemoveEntityPermission', AUTH, `${refXml('entity', cluster)}<user>erin</user><isGroup>false</isGroup>`), 'NoPermission');
    await a.call('RemoveEntityPermission', AUTH, `${refXml('entity', cluster)}<user>erin</user><isGroup>false</isGroup>`);
    assert.deepEqual(names(await everything(erin, 'VirtualMachine')), []);
    assert.deepEqual(await erinsOn(), []);
  });

  void it('refuses RetrieveProperties and RetrievePropertiesEx without a session (NotAuthenticated)', async () => {
    const anonymous = new Session(sim.current.url);
    await assertFault(anonymous.call('RetrievePropertiesEx', PC, objectsSpecXml([ROOT], 'Folder', ['name']) + '<options></options>'), 'NotAuthenticated');
    await assertFault(anonymous.call('RetrieveProperties', PC, objectsSpecXml([ROOT], 'Folder', ['name'])), 'NotAuthenticated');
  });

  void it('reports entering and leaving objects to WaitForUpdatesEx as permissions change', async () => {
    const paths = await inventoryPaths(sim.current.url);
    const vm = pathOf(paths, '/DC1/vm/DC1_C0_RP0_VM3');
    const hank = await login(sim.current.url, 'hank', 'hank-pw');
    const view = await hank.containerView('VirtualMachine');
    const filterRes = await hank.call('CreateFilter', PC, `<spec>${viewSpecXml(view, 'VirtualMachine', ['name']).replace(/^<specSet>|<\/specSet>$/g, '')}</spec><partialUpdates>false</partialUpdates>`);
    assert.equal((filterRes['returnval'] as unknown[]).length, 1);
    const wait = async (version: string): Promise<{ version: string; updates: { kind: string; obj: string }[] } | null> => {
      const res = await hank.call('WaitForUpdatesEx', PC, `<version>${version}</version><options><maxWaitSeconds>5</maxWaitSeconds></options>`);
      const set = (res['returnval'] as XmlNode[] | undefined)?.[0];
      if (!set) return null;
      const updates = ((set['filterSet'] ?? []) as XmlNode[]).flatMap((f) => ((f['objectSet'] ?? []) as XmlNode[]).map((o) => ({ kind: text(o['kind']), obj: moRef(o['obj']).value })));
      return { version: text(set['version']), updates };
    };
    const initial = await wait('');
    assert.ok(initial, 'the first WaitForUpdatesEx answers at once');
    assert.deepEqual(initial.updates, []);

    const a = await login(sim.current.url, admin.name, admin.password);
    const grant = `${refXml('entity', vm)}<permission><principal>hank</principal><group>false</group><roleId>-2</roleId><propagate>false</propagate></permission>`;
    await a.call('SetEntityPermissions', AUTH, grant);
    const entered = await wait(initial.version);
    assert.deepEqual(entered?.updates, [{ kind: 'enter', obj: vm.value }]);

    await a.call('RemoveEntityPermission', AUTH, `${refXml('entity', vm)}<user>hank</user><isGroup>false</isGroup>`);
    const left = await wait(entered?.version ?? '');
    assert.deepEqual(left?.updates, [{ kind: 'leave', obj: vm.value }]);
  });

  void it('refuses bad permission files at start, naming the bad entry', async () => {
    const start = (p: VcsimPermissions): Promise<unknown> =>
      startVcsim({ username: admin.name, password: admin.password, permissions: p }).then(async (started) => {
        await started.stop();
        throw new Error('vcsim started with a bad permissions file');
      });
    const user = [{ name: 'zoe', password: 'zoe-pw' }];
    await assert.rejects(start({ users: user, permissions: [{ entity: 'DC9_C0', principal: 'zoe', role: 'ReadOnly' }] }), /permissions\[0\] \(entity "DC9_C0"\): no managed entity has that name/);
    await assert.rejects(start({ users: user, permissions: [{ entity: 'Resources', principal: 'zoe', role: 'ReadOnly' }] }), /2 entities have that name \(\/DC0\/host\/DC0_C0\/Resources, \/DC0\/host\/DC0_H0\/Resources\): use an inventory path/);
    await assert.rejects(start({ users: user, permissions: [{ entity: '/DC0/host/nope', principal: 'zoe', role: 'ReadOnly' }] }), /no entity has that inventory path/);
    await assert.rejects(start({ users: user, permissions: [{ entity: 'DC0_C0', principal: 'zoe', role: 'Reader' }] }), /unknown role "Reader" \(known: .*ReadOnly/);
    await assert.rejects(start({ users: user, permissions: [{ entity: 'DC0_C0', principal: 'yann', role: 'ReadOnly' }] }), /principal "yann" is neither a user/);
    await assert.rejects(start({ users: [{ name: 'zoe', password: '' }], permissions: [] }), /users\[0\] \("zoe"\): "password" is missing/);
    await assert.rejects(
      startVcsim({ permissions: { users: user, permissions: [] } }).then((s) => s.stop()),
      /-permissions needs -username and -password/,
    );

    // startVcsim always writes valid JSON: hand the binary a broken file.
    const dir = await mkdtemp(join(tmpdir(), 'vcsim-bad-'));
    try {
      const file = join(dir, 'permissions.json');
      await writeFile(file, '{\n  "users": [ { "name": "zoe", "password": "x", } ]\n}\n');
      const run = promisify(execFile)(await vcsimBinary(), ['-username', 'a', '-password', 'b', '-permissions', file]);
      await assert.rejects(run, (error: { stderr?: string; code?: number }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /permissions file .*permissions\.json is not valid JSON \(line 2\)/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Paging of `VirtualMachine` objects through a ContainerView: every object once, in pages of `size`. */
async function assertPages(s: Session, size: number, expected: number): Promise<void> {
  const view = await s.containerView('VirtualMachine');
  let current = await retrieveEx(s, viewSpecXml(view, 'VirtualMachine', ['name']), size);
  const seen: string[] = [];
  const sizes: number[] = [];
  for (;;) {
    sizes.push(current.objects.length);
    seen.push(...current.objects.map((o) => key(o.obj)));
    if (current.token === null) break;
    current = await continueEx(s, current.token);
  }
  assert.equal(seen.length, expected);
  assert.equal(new Set(seen).size, expected, 'every object exactly once');
  const full = Math.floor(expected / size);
  const expectedSizes = [...Array<number>(full).fill(size), ...(expected % size ? [expected % size] : [])];
  assert.deepEqual(sizes, expectedSizes);
}

async function assertTokenRules(url: string, user: { name: string; password: string }): Promise<void> {
  const s = await login(url, user.name, user.password);
  const other = await login(url, user.name, user.password);
  const view = await s.containerView('VirtualMachine');
  const spec = viewSpecXml(view, 'VirtualMachine', ['name']);

  const first = await retrieveEx(s, spec, 7);
  assert.ok(first.token, 'a first page of 7 has a token');
  await assertFault(continueEx(other, first.token), 'InvalidArgument');
  await assertFault(other.call('CancelRetrievePropertiesEx', PC, `<token>${first.token}</token>`), 'InvalidArgument');
  // Refused to the other session, the token still works for its own.
  assert.equal((await continueEx(s, first.token)).objects.length, 7);
  await s.call('CancelRetrievePropertiesEx', PC, `<token>${first.token}</token>`);
  await assertFault(continueEx(s, first.token), 'InvalidArgument');
  await assertFault(continueEx(s, 'no-such-token'), 'InvalidArgument');

  // Without maxObjects: everything in one answer.
  const all = await retrieveEx(s, spec);
  assert.equal(all.token, null);
  assert.equal(all.objects.length, 40);
}

void describe('RetrievePropertiesEx paging', () => {
  void it('pages 40 VMs by 7 with -permissions: every object once, the last page without a token', async () => {
    const a = await login(sim.current.url, admin.name, admin.password);
    await assertPages(a, 7, 40);
    await assertPages(a, 8, 40);
    const alice = await login(sim.current.url, 'alice', 'alice-pw');
    await assertPages(alice, 4, 9);
    await assertPages(alice, 3, 9);
  });

  void it('keeps tokens to their session with -permissions; CancelRetrievePropertiesEx discards the rest', async () => {
    await assertTokenRules(sim.current.url, admin);
  });

  void it('pages and filters on collectors made by CreatePropertyCollector, whose tokens are their own', async () => {
    const s = await login(sim.current.url, 'alice', 'alice-pw');
    const created = moRef(((await s.call('CreatePropertyCollector', PC))['returnval'] as unknown[])[0]);
    const view = await s.containerView('VirtualMachine');
    const spec = viewSpecXml(view, 'VirtualMachine', ['name']);
    const first = page(await s.call('RetrievePropertiesEx', created, `${spec}<options><maxObjects>5</maxObjects></options>`));
    assert.ok(first.token, 'a first page of 5 of 9 has a token');
    await assertFault(continueEx(s, first.token), 'InvalidArgument'); // the ServiceContent's collector
    const rest = page(await s.call('ContinueRetrievePropertiesEx', created, `<token>${first.token}</token>`));
    assert.equal(rest.token, null);
    assert.deepEqual(names([...first.objects, ...rest.objects]), clusterVms(0, 0, [1]));
    await s.call('DestroyPropertyCollector', created);
  });

  void it('pages the same without -permissions', async () => {
    const a = await login(plain.current.url, admin.name, admin.password);
    await assertPages(a, 7, 40);
    await assertPages(a, 8, 40);
    await assertTokenRules(plain.current.url, admin);
  });

  void it('refuses a negative maxObjects', async () => {
    const s = await login(plain.current.url, admin.name, admin.password);
    await assertFault(retrieveEx(s, objectsSpecXml([ROOT], 'Folder', ['name']), -1), 'InvalidArgument');
  });
});
