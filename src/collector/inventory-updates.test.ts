/**
 * How property changes are applied to an object's mirrored properties, and how a vCenter-shaped
 * WaitForUpdatesEx answer is read: the shapes the simulator never sends (array elements
 * added, removed, assigned by key; a missingSet; a truncated answer).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUpdateSet } from '../vsphere/client.ts';
import { elementValue, parseXml } from '../vsphere/xml.ts';
import { applyChange } from './inventory-updates.ts';

const paths = new Set(['name', 'datastore', 'config.network.pnic']);
const ds = (value: string): { type: string; value: string } => ({ type: 'Datastore', value });
const pnic = (device: string, speedMb?: number): Record<string, unknown> => ({
  key: `key-vim.host.PhysicalNic-${device}`,
  device,
  ...(speedMb === undefined ? {} : { linkSpeed: { speedMb } }),
});

const cases: readonly {
  readonly name: string;
  readonly before: Record<string, unknown>;
  readonly change: { name: string; op: string; val?: unknown };
  readonly after: Record<string, unknown> | 'not placed';
}[] = [
  { name: 'assign sets a whole property', before: {}, change: { name: 'name', op: 'assign', val: 'vm-a' }, after: { name: 'vm-a' } },
  { name: 'assign without a value unsets it', before: { name: 'vm-a' }, change: { name: 'name', op: 'assign' }, after: {} },
  { name: 'indirectRemove of a property unsets it', before: { name: 'vm-a' }, change: { name: 'name', op: 'indirectRemove' }, after: {} },
  { name: 'remove of a property unsets it', before: { datastore: [ds('a')] }, change: { name: 'datastore', op: 'remove' }, after: {} },
  {
    name: 'add of a moRef element appends it',
    before: { datastore: [ds('a')] },
    change: { name: 'datastore["b"]', op: 'add', val: ds('b') },
    after: { datastore: [ds('a'), ds('b')] },
  },
  { name: 'add to an absent list makes it', before: {}, change: { name: 'datastore["b"]', op: 'add', val: ds('b') }, after: { datastore: [ds('b')] } },
  {
    name: 'remove of a moRef element by its value',
    before: { datastore: [ds('a'), ds('b'), ds('c')] },
    change: { name: 'datastore["b"]', op: 'remove' },
    after: { datastore: [ds('a'), ds('c')] },
  },
  {
    name: 'assign of a keyed data object replaces it in place',
    before: { 'config.network.pnic': [pnic('vmnic0', 1000), pnic('vmnic1', 1000)] },
    change: { name: 'config.network.pnic["key-vim.host.PhysicalNic-vmnic0"]', op: 'assign', val: pnic('vmnic0', 10000) },
    after: { 'config.network.pnic': [pnic('vmnic0', 10000), pnic('vmnic1', 1000)] },
  },
  {
    name: 'indirectRemove of a keyed element drops it',
    before: { 'config.network.pnic': [pnic('vmnic0'), pnic('vmnic1')] },
    change: { name: 'config.network.pnic["key-vim.host.PhysicalNic-vmnic1"]', op: 'indirectRemove' },
    after: { 'config.network.pnic': [pnic('vmnic0')] },
  },
  { name: 'a nested change inside an element is not placed', before: { 'config.network.pnic': [pnic('vmnic0')] }, change: { name: 'config.network.pnic["key-vim.host.PhysicalNic-vmnic0"].linkSpeed', op: 'assign', val: {} }, after: 'not placed' },
  { name: 'a path the filter does not name is not placed', before: {}, change: { name: 'summary.quickStats', op: 'assign', val: {} }, after: 'not placed' },
  { name: 'an element of a property that is not a list is not placed', before: { name: 'x' }, change: { name: 'name["a"]', op: 'add', val: 'y' }, after: 'not placed' },
  { name: 'an unknown op is not placed', before: {}, change: { name: 'name', op: 'merge', val: 'x' }, after: 'not placed' },
];

for (const c of cases) {
  void test(`applyChange: ${c.name}`, () => {
    const props = structuredClone(c.before);
    const placed = applyChange(props, paths, { name: c.change.name, op: c.change.op, val: c.change.val });
    if (c.after === 'not placed') assert.equal(placed, false);
    else {
      assert.equal(placed, true);
      assert.deepEqual(props, c.after);
    }
  });
}

const envelope = (inner: string): string =>
  `<returnval xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">${inner}</returnval>`;

void test('parseUpdateSet reads a vCenter answer: several filters, kinds, ops, a missingSet, truncated', () => {
  const xml = envelope(
    '<version>42_7</version>' +
      '<filterSet><filter type="PropertyFilter">session[1]f1</filter>' +
      '<objectSet><kind>modify</kind><obj type="VirtualMachine">vm-1</obj>' +
      '<changeSet><name>name</name><op>assign</op><val xsi:type="xsd:string">web-01</val></changeSet>' +
      '<changeSet><name>datastore</name><op>assign</op><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore">ds-1</ManagedObjectReference></val></changeSet>' +
      '<changeSet><name>guest.ipAddress</name><op>assign</op></changeSet>' +
      '<missingSet><path>summary.storage.committed</path><fault><fault xsi:type="NoPermission"><privilegeId>System.Read</privilegeId></fault><localizedMessage></localizedMessage></fault></missingSet>' +
      '</objectSet>' +
      '<objectSet><kind>leave</kind><obj type="VirtualMachine">vm-2</obj></objectSet>' +
      '</filterSet>' +
      '<filterSet><filter type="PropertyFilter">session[1]f2</filter>' +
      '<objectSet><kind>enter</kind><obj type="Datacenter">datacenter-3</obj><changeSet><name>name</name><op>assign</op><val xsi:type="xsd:string">DC3</val></changeSet></objectSet>' +
      '<missingSet><obj type="ContainerView">session[1]view-9</obj><fault><fault xsi:type="ManagedObjectNotFound"></fault></fault></missingSet>' +
      '</filterSet>' +
      '<truncated>true</truncated>',
  );
  const set = parseUpdateSet(elementValue(parseXml(xml)));
  assert.ok(set);
  assert.equal(set.version, '42_7');
  assert.equal(set.truncated, true);
  assert.deepEqual(
    set.filters.map((f) => f.filter.value),
    ['session[1]f1', 'session[1]f2'],
  );
  const [vm1, vm2] = set.filters[0]?.objects ?? [];
  assert.deepEqual(vm1, {
    kind: 'modify',
    obj: { type: 'VirtualMachine', value: 'vm-1' },
    changes: [
      { name: 'name', op: 'assign', val: 'web-01' },
      { name: 'datastore', op: 'assign', val: [{ type: 'Datastore', value: 'ds-1' }] },
      { name: 'guest.ipAddress', op: 'assign', val: undefined },
    ],
    missing: [{ path: 'summary.storage.committed', faultType: 'NoPermission' }],
  });
  assert.deepEqual(vm2, { kind: 'leave', obj: { type: 'VirtualMachine', value: 'vm-2' }, changes: [], missing: [] });
  assert.deepEqual(set.filters[1]?.missingObjects, [{ type: 'ContainerView', value: 'session[1]view-9' }]);
});

void test('parseUpdateSet: a NotAuthenticated fault in a missingSet is the session gone', () => {
  const xml = envelope(
    '<version>1</version><filterSet><filter type="PropertyFilter">f</filter><objectSet><kind>modify</kind><obj type="VirtualMachine">vm-1</obj>' +
      '<missingSet><path>name</path><fault><fault xsi:type="NotAuthenticated"></fault></fault></missingSet></objectSet></filterSet>',
  );
  assert.throws(() => parseUpdateSet(elementValue(parseXml(xml))), { name: 'NotAuthenticated' });
});
