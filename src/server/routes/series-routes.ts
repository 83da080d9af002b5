/**
 * GET /api/entities/:id/series: one entity's history over a period, average, minimum and
 * maximum per bucket, cached where its buckets are final (series-cache.ts).
 */
import type { FastifyPluginCallback } from 'fastify';
import { acceptsGzip, sendPrepared } from '../prepared-body.ts';
import { SeriesCache } from '../series-cache.ts';
import { planSeries } from '../series.ts';
import { parseInput, seriesQuery } from '../validate.ts';
import { shownEntity, type RouteContext } from './context.ts';

export const seriesRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { store, nowSec } = context;

  const seriesCache = new SeriesCache(store);
  app.get<{ Params: { id: string } }>('/api/entities/:id/series', async (request, reply) => {
    // One lookup (two for a NIC): this is the busiest route.
    const entity = await shownEntity(store, request, request.params.id);
    const query = parseInput(seriesQuery, request.query, 'query');
    const plan = planSeries(entity.kind, query, nowSec());
    return sendPrepared(request, reply, await seriesCache.answer(entity, plan, acceptsGzip(request)));
  });
  done();
};
