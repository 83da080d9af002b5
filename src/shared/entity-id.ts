/**
 * vscope entity ids: derived from the vCenter id and the managed object reference, so they
 * stay stable across cycles and restarts, are unique across vCenters, and are URL-safe
 * whatever characters a moRef holds (vcsim's datastore moRefs contain `/` and `@`).
 */
import { hash } from 'node:crypto';
import type { EntityKind } from './inventory.ts';

const prefixes: Record<EntityKind, string> = {
  datacenter: 'dc',
  cluster: 'cl',
  host: 'h',
  nic: 'n',
  vm: 'vm',
  datastore: 'ds',
};

/** Every id is checked on every request that names one: a map, not a search. */
const kindOfPrefix: ReadonlyMap<string, EntityKind> = new Map(Object.entries(prefixes).map(([kind, prefix]) => [prefix, kind as EntityKind]));

function digest(parts: readonly string[]): string {
  // 80 bits: collision odds are negligible below billions of entities. The one-shot hash, not
  // a Hash object per id: a fresh process (`collect --once`) hashes every entity of the
  // inventory, about 6,000 at 5,000 VMs, in 17 ms instead of 63 (issue 12), and a scope
  // thousands more.
  return hash('sha256', parts.join('\u0000'), 'base64url').slice(0, 14);
}

/** Id of a managed entity, e.g. `vm-Xq3...`. */
export function entityId(kind: Exclude<EntityKind, 'nic'>, vcenterId: string, moRef: string): string {
  return `${prefixes[kind]}-${digest([vcenterId, kind, moRef])}`;
}

/** Id of a host physical NIC: the host's id and the vmnic device name. */
export function nicId(hostId: string, device: string): string {
  return `${prefixes.nic}-${digest([hostId, device])}`;
}

/** Kind of an entity id, or null when the id is not one of ours. */
export function kindOfId(id: string): EntityKind | null {
  const match = /^([a-z]+)-[A-Za-z0-9_-]{14}$/.exec(id);
  return kindOfPrefix.get(match?.[1] ?? '') ?? null;
}
