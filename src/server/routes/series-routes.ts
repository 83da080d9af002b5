/**
 * GET /api/entities/:id/series: one entity's history over a period, average, minimum and
 * maximum per bucket, cached where its buckets are final (series-cache.ts).
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { kindOfId } from '../../shared/entity-id.ts';
import type { StoredEntity } from '../../store/store.ts';
import { notFound } from '../errors.ts';
import { sendPrepared } from '../prepared-body.ts';
import { SeriesCache } from '../series-cache.ts';
import { planSeries } from '../series.ts';
import { parseInput, seriesQuery } from '../validate.ts';
import { sessionOf, type RouteContext } from './context.ts';

export const seriesRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { store, nowSec } = context;

  /** One lookup (two for a NIC): this is the busiest route. */
  const entityFor = async (request: FastifyRequest, id: string): Promise<StoredEntity> => {
    const current = sessionOf(request);
    const entity = kindOfId(id) === null ? null : await store.entity(id);
    const owner = entity?.kind === 'nic' ? await store.entity(entity.hostId) : entity;
    if (!entity || owner?.kind === 'nic' || owner?.vcenterId !== current.vcenterId) throw notFound('This entity');
    return entity;
  };

  const seriesCache = new SeriesCache(store);
  app.get<{ Params: { id: string } }>('/api/entities/:id/series', async (request, reply) => {
    const entity = await entityFor(request, request.params.id);
    const query = parseInput(seriesQuery, request.query, 'query');
    const plan = planSeries(entity.kind, query, nowSec());
    return sendPrepared(request, reply, await seriesCache.answer(entity, plan));
  });
  done();
};
