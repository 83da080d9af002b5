/**
 * What every route plugin receives: the stores, the sessions, the clock, the configuration and
 * the collector's live statuses. Built once by buildApp (app.ts); plugins never build parts.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CollectionStatus, Store } from '../../store/store.ts';
import type { AppConfig } from '../app.ts';
import type { Authenticator } from '../auth.ts';
import { notAuthenticated } from '../errors.ts';
import type { ListBuilder } from '../list-builder.ts';
import type { Session, SessionStore } from '../sessions.ts';

export interface RouteContext {
  readonly store: Store;
  readonly auth: Authenticator;
  readonly log: Logger;
  readonly config: AppConfig;
  readonly sessions: SessionStore;
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
