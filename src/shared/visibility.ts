/**
 * What one person may see of one vCenter, as vCenter itself decided it (their permissions,
 * roles, groups and inheritance): vscope never re-implements those rules, it asks vCenter with
 * the person's own session (server/auth.ts) and keeps the answer as a Scope.
 *
 * Two levels, as in vCenter:
 *   - readable: the person holds System.Read on the entity; vscope shows its row, detail and
 *     history;
 *   - view-only: they hold only System.View (an ancestor of something readable, e.g. the
 *     datacenter or cluster above their VMs); vscope shows its name, nothing of its own.
 * Everything else does not exist for them: a hidden id answers exactly like an unknown one.
 */
import { createHash } from 'node:crypto';
import { entityId } from './entity-id.ts';
import type { EntityKind } from './inventory.ts';

/** The vim25 types whose visibility vscope asks about, and the entity kind each one is. */
export const scopedTypes: Readonly<Record<string, Exclude<EntityKind, 'nic'>>> = {
  Datacenter: 'datacenter',
  ClusterComputeResource: 'cluster',
  HostSystem: 'host',
  VirtualMachine: 'vm',
  Datastore: 'datastore',
};

/** A managed object as vCenter names it (`{ type: 'VirtualMachine', value: 'vm-42' }`). */
export interface ScopedObject {
  readonly type: string;
  readonly value: string;
}

/** A scope as it is stored and shared between processes. */
export interface StoredScope {
  /** Content hash of the rest: two people who see the same set share one scope. */
  readonly id: string;
  readonly vcenterId: string;
  /** vscope entity ids, sorted. */
  readonly readable: readonly string[];
  readonly viewOnly: readonly string[];
}

/** What lists and details are filtered by. */
export interface Visibility {
  /** The person may read the entity (NICs: ask for their host). */
  canRead(entityId: string): boolean;
  /** The person may at least see the entity's name (readable or view-only). */
  canSee(entityId: string): boolean;
}

export class Scope implements Visibility {
  private readonly readableIds: ReadonlySet<string>;
  private readonly viewOnlyIds: ReadonlySet<string>;

  private constructor(readonly stored: StoredScope) {
    this.readableIds = new Set(stored.readable);
    this.viewOnlyIds = new Set(stored.viewOnly);
  }

  /**
   * The scope of what vCenter answered. Objects of other types are ignored; an object both
   * readable and view-only counts as readable.
   */
  static of(vcenterId: string, readable: readonly ScopedObject[], viewOnly: readonly ScopedObject[]): Scope {
    const ids = (objects: readonly ScopedObject[]): string[] => {
      const out = new Set<string>();
      for (const object of objects) {
        const kind = scopedTypes[object.type];
        if (kind !== undefined) out.add(entityId(kind, vcenterId, object.value));
      }
      return [...out].sort();
    };
    const readableIds = ids(readable);
    const readableSet = new Set(readableIds);
    const viewOnlyIds = ids(viewOnly).filter((id) => !readableSet.has(id));
    return new Scope({ id: scopeHash(vcenterId, readableIds, viewOnlyIds), vcenterId, readable: readableIds, viewOnly: viewOnlyIds });
  }

  /** A stored scope, checked against its own id (a scope is never trusted half-written). */
  static fromStored(stored: StoredScope): Scope {
    if (scopeHash(stored.vcenterId, stored.readable, stored.viewOnly) !== stored.id) {
      throw new Error(`scope ${stored.id} does not match its content`);
    }
    return new Scope(stored);
  }

  get id(): string {
    return this.stored.id;
  }

  get vcenterId(): string {
    return this.stored.vcenterId;
  }

  /** How many entities the person may read. */
  get readableCount(): number {
    return this.readableIds.size;
  }

  canRead(id: string): boolean {
    return this.readableIds.has(id);
  }

  canSee(id: string): boolean {
    return this.readableIds.has(id) || this.viewOnlyIds.has(id);
  }
}

function scopeHash(vcenterId: string, readable: readonly string[], viewOnly: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([vcenterId, readable, viewOnly])).digest('base64url').slice(0, 22);
}
