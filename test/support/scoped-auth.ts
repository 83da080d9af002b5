/**
 * For hand-made or synthetic inventories (test fixtures, benchmarks), which have no simulator
 * objects behind them: the real authenticator checks the password against the simulator, and
 * the caller says what each person may see. What vCenter itself answers is tested against the
 * permission-enforcing simulator (test/visibility.test.ts).
 */
import type { Authenticator } from '../../src/server/auth.ts';
import type { InventorySnapshot } from '../../src/shared/inventory.ts';
import { Scope, type ScopedObject } from '../../src/shared/visibility.ts';

export function withScopes(real: Authenticator, scopeOf: (vcenterId: string, username: string) => Scope): Authenticator {
  return {
    vcenters: () => real.vcenters(),
    async login(vcenterId, username, password) {
      const login = await real.login(vcenterId, username, password);
      return { scope: () => Promise.resolve(scopeOf(vcenterId, username)), logout: () => login.logout() };
    },
  };
}

const typeOfKind = { datacenter: 'Datacenter', cluster: 'ClusterComputeResource', host: 'HostSystem', vm: 'VirtualMachine', datastore: 'Datastore' } as const;

/**
 * The scope of a person who may read the entities of `snapshot` that `readable` keeps (all by
 * default); the datacenters and clusters of what they read are view-only, as vCenter shows
 * ancestors.
 */
export function snapshotScope(snapshot: InventorySnapshot, readable: (entity: { readonly kind: string; readonly id: string }) => boolean = () => true): Scope {
  const all = [...snapshot.datacenters, ...snapshot.clusters, ...snapshot.hosts, ...snapshot.vms, ...snapshot.datastores];
  const read = all.filter(readable);
  const ancestors = new Set<string>();
  for (const entity of read) {
    if ('datacenterId' in entity) ancestors.add(entity.datacenterId);
    if ('clusterId' in entity && entity.clusterId !== null) ancestors.add(entity.clusterId);
  }
  const object = (entity: (typeof all)[number]): ScopedObject => ({ type: typeOfKind[entity.kind], value: entity.moRef });
  const readIds = new Set(read.map((entity) => entity.id));
  return Scope.of(
    snapshot.vcenterId,
    read.map(object),
    all.filter((entity) => ancestors.has(entity.id) && !readIds.has(entity.id)).map(object),
  );
}
