/**
 * The inventory as the views list it: GET /api/datacenters, the VM, host and datastore lists of
 * a datacenter (built off the event loop and cached, see list-cache.ts), and one entity's
 * detail. A session sees only its own vCenter: anything else answers 404 like an unknown id.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { DatacenterRow } from '../../shared/api.ts';
import { kindOfId } from '../../shared/entity-id.ts';
import type { StoredDatacenter } from '../../store/store.ts';
import { notFound } from '../errors.ts';
import { ListCache } from '../list-cache.ts';
import { sendPrepared } from '../prepared-body.ts';
import { listQuery, parseInput } from '../validate.ts';
import { datacenterRows, entityDetail, locate, type EntityPlace } from '../views.ts';
import { sessionOf, type RouteContext } from './context.ts';

export const inventoryRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { store, statuses, nowSec } = context;

  /** The datacenter `id` when it belongs to the session's vCenter, else 404. */
  const datacenterFor = async (request: FastifyRequest, id: string, includeRemoved: boolean): Promise<StoredDatacenter> => {
    const current = sessionOf(request);
    const entity = kindOfId(id) === 'datacenter' ? await store.entity(id) : null;
    if (entity?.kind !== 'datacenter' || entity.vcenterId !== current.vcenterId || (entity.removedAtSec !== null && !includeRemoved)) {
      throw notFound('This datacenter');
    }
    return entity;
  };
  const locateFor = async (request: FastifyRequest, id: string): Promise<EntityPlace> => {
    const current = sessionOf(request);
    const place = kindOfId(id) === null ? null : await locate(store, id);
    if (!place || place.vcenterId !== current.vcenterId) throw notFound('This entity');
    return place;
  };

  app.get('/api/datacenters', async (request): Promise<DatacenterRow[]> => {
    const { vcenterId } = sessionOf(request);
    // A few datacenters, counted in SQL (under a millisecond at 5,000 VMs): not cached.
    const rows = await datacenterRows(store, vcenterId);
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
      return sendPrepared(request, reply, await lists.get({ list, datacenterId: datacenter.id, includeRemoved: removed, nowSec: nowSec() }));
    });
  }

  app.get<{ Params: { id: string } }>('/api/entities/:id', async (request) =>
    entityDetail(store, await locateFor(request, request.params.id), nowSec()),
  );
  done();
};
