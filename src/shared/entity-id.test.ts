import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entityId, kindOfId, nicId } from './entity-id.ts';

test('ids are stable, URL-safe and carry their kind', () => {
  const moRef = '/tmp/govcsim-DC0-LocalDS_0-123@folder-5';
  const id = entityId('datastore', 'vc1', moRef);
  assert.equal(id, entityId('datastore', 'vc1', moRef));
  assert.match(id, /^ds-[A-Za-z0-9_-]{14}$/);
  assert.equal(encodeURIComponent(id), id);
  assert.equal(kindOfId(id), 'datastore');
});

test('ids are those every earlier version stored (they key the database rows)', () => {
  assert.equal(entityId('vm', 'vc1', 'vm-42'), 'vm-Rjobzi_YAiokY1');
  assert.equal(entityId('datastore', 'vc1', '/tmp/govcsim-DC0-LocalDS_0-123@folder-5'), 'ds-5DlnDJdueTzOMI');
  const host = entityId('host', 'vc1', 'host-21');
  assert.equal(host, 'h-NvdNUuR9Nv-yGN');
  assert.equal(nicId(host, 'vmnic0'), 'n-6qI-ASHy30Z1wc');
});

test('the same moRef on two vCenters gives two ids', () => {
  assert.notEqual(entityId('vm', 'vc1', 'vm-42'), entityId('vm', 'vc2', 'vm-42'));
});

test('kind and moRef both take part in the id', () => {
  assert.notEqual(entityId('host', 'vc1', 'x-1'), entityId('cluster', 'vc1', 'x-1'));
});

test('NIC ids derive from the host and the device', () => {
  const host = entityId('host', 'vc1', 'host-21');
  const id = nicId(host, 'vmnic0');
  assert.equal(kindOfId(id), 'nic');
  assert.notEqual(id, nicId(host, 'vmnic1'));
});

test('kindOfId rejects what is not one of ours', () => {
  for (const bad of ['', 'vm-', 'vm-short', 'zz-AAAAAAAAAAAAAA', '../etc/passwd', 'vm-AAAAAAAAAAAAAA/x']) {
    assert.equal(kindOfId(bad), null, bad);
  }
});
