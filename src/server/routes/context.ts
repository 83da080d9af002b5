/**
 * What every route plugin receives: the stores, the sessions, the clock, the configuration and
 * the collector's live statuses. Built once by buildApp (app.ts); plugins never build parts.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { kindOfId } from '../../shared/entity-id.ts';
import type { CollectionStatus, LoginLimiterStore, Store, StoredEntity } from '../../store/store.ts';
import type { AppConfig } from '../app.ts';
import type { Authenticator } from '../auth.ts';
import { notAuthenticated, notFound } from '../errors.ts';
import type { ListBuilder } from '../list-builder.ts';
import type { Session, Sessions } from '../sessions.ts';

export interface RouteContext {
  readonly store: Store;
  readonly auth: Authenticator;
  readonly log: Logger;
  readonly config: AppConfig;
  readonly sessions: Sessions;
  readonly loginLimiter: LoginLimiterStore;
  readonly listBuilder: ListBuilder;
  /** Clock, ms since the epoch. */
  readonly nowMs: () => number;
  /** Clock, whole unix seconds. */
  readonly nowSec: () => number;
  /** Collection statuses: the collector's live ones when it runs in this process, else the store's. */
  readonly statuses: () => Promise<readonly CollectionStatus[]>;
}

/** The request's session; the session hook (app.ts) already refused requests without one. */
export function sessionOf(request: FastifyRequest): Session {
  if (!request.vscopeSession) throw notAuthenticated();
  return request.vscopeSession;
}

/**
 * The one place where an id from a URL becomes an entity: it must be of the session's vCenter
 * and shown to its person (a host, VM, datastore or NIC readable, a datacenter or cluster at
 * least visible; see views.ts `shows`). Anything else answers 404 exactly like an unknown id,
 * so that hidden cannot be told from absent.
 */
export async function shownEntity(store: Store, request: FastifyRequest, id: string): Promise<StoredEntity> {
  const { vcenterId, scope } = sessionOf(request);
  const entity = kindOfId(id) === null ? null : await store.entity(id);
  const owner = entity?.kind === 'nic' ? await store.entity(entity.hostId) : entity;
  if (!entity || !owner || owner.kind === 'nic' || owner.vcenterId !== vcenterId) throw notFound('This entity');
  const shown = entity.kind === 'nic' ? scope.canRead(entity.hostId) : entity.kind === 'datacenter' || entity.kind === 'cluster' ? scope.canSee(id) : scope.canRead(id);
  if (!shown) throw notFound('This entity');
  return entity;
}
