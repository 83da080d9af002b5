/**
 * The inventory as the views list it: GET /api/datacenters, the VM, host and datastore lists of
 * a datacenter (built off the event loop and cached, see list-cache.ts), and one entity's
 * detail. A session sees only its own vCenter: anything else answers 404 like an unknown id.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { DatacenterRow } from '../../shared/api.ts';
import type { StoredDatacenter } from '../../store/store.ts';
import { notFound } from '../errors.ts';
import { ListCache } from '../list-cache.ts';
import { sendPrepared } from '../prepared-body.ts';
import { listQuery, parseInput } from '../validate.ts';
import { datacenterRows, entityDetail, locate } from '../views.ts';
import { sessionOf, shownEntity, type RouteContext } from './context.ts';

export const inventoryRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { store, statuses, nowSec } = context;

  /** The datacenter `id` when the session may see it, else 404. */
  const datacenterFor = async (request: FastifyRequest, id: string, includeRemoved: boolean): Promise<StoredDatacenter> => {
    const entity = await shownEntity(store, request, id).catch(() => null);
    if (entity?.kind !== 'datacenter' || (entity.removedAtSec !== null && !includeRemoved)) throw notFound('This datacenter');
    return entity;
  };

  app.get('/api/datacenters', async (request): Promise<DatacenterRow[]> => {
    const { vcenterId, scope } = sessionOf(request);
    // A few datacenters, their entities' ids read from the store's index: not cached.
    const rows = await datacenterRows(store, vcenterId, scope);
    // collectedAt comes from the live status (the collector's, when it runs in this process).
    const lastSuccess = (await statuses()).find((status) => status.vcenterId === vcenterId)?.lastSuccessSec ?? null;
    return rows.map((row) => ({ ...row, collectedAt: lastSuccess }));
  });

  const lists = new ListCache({
    builder: context.listBuilder,
    version: () => store.dataVersion?.(),
    cycleMark: async () =>
      (await statuses())
        .map((status) => `${status.vcenterId}:${String(status.lastStartSec)}:${String(status.lastEndSec)}:${String(status.lastDurationMs)}`)
        .join(' '),
    nowMs: context.nowMs,
    maxStaleMs: context.config.listMaxStaleMs ?? 0,
    log: context.log,
  });
  for (const list of ['vms', 'hosts', 'datastores'] as const) {
    app.get<{ Params: { id: string } }>(`/api/datacenters/:id/${list}`, async (request, reply) => {
      const { removed } = parseInput(listQuery, request.query, 'query');
      const datacenter = await datacenterFor(request, request.params.id, removed);
      const { scope } = sessionOf(request);
      return sendPrepared(request, reply, await lists.get({ list, datacenterId: datacenter.id, includeRemoved: removed, nowSec: nowSec(), scopeId: scope.id }));
    });
  }

  app.get<{ Params: { id: string } }>('/api/entities/:id', async (request) => {
    const entity = await shownEntity(store, request, request.params.id);
    const place = await locate(store, entity.id);
    if (place === null) throw notFound('This entity');
    return entityDetail(store, place, nowSec(), sessionOf(request).scope);
  });
  done();
};
