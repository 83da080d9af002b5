/**
 * Capacity, Contention and Compare (issue 13): GET /api/datacenters/:id/capacity,
 * GET /api/datacenters/:id/contention and GET /api/compare. Every answer holds only what the
 * session's person may read (see insights.ts for the decisions, compare.ts for Compare); ids
 * they may not see answer 404 exactly like unknown ones.
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { contentionMetricKeys, insightsPeriods } from '../../shared/insights.ts';
import type { StoredDatacenter } from '../../store/store.ts';
import { compareIds, compareKind, compareResponse } from '../compare.ts';
import { badRequest, notFound } from '../errors.ts';
import { InsightsService } from '../insights.ts';
import { sendPrepared } from '../prepared-body.ts';
import { planSeries } from '../series.ts';
import { maxTextLength, parseInput, unixSecondsText } from '../validate.ts';
import { sessionOf, shownEntity, type RouteContext } from './context.ts';

/** Rows of a contention ranking, default and most. */
export const defaultContentionRows = 25;
export const maxContentionRows = 200;

const periodParam = z.enum(insightsPeriods);

export const capacityQuery = z.object({ period: periodParam.default('month') });

export const contentionQuery = z.object({
  // A week of 30-minute buckets: long enough to catch a weekly job, fine enough for "how long".
  period: periodParam.default('week'),
  metric: z.enum(contentionMetricKeys).default('cpuReady'),
  rankBy: z.enum(['peak', 'timeAbove']).default('peak'),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'expected a whole number')
    .transform(Number)
    .refine((rows) => rows >= 1 && rows <= maxContentionRows, `from 1 to ${String(maxContentionRows)}`)
    .default(defaultContentionRows),
});

export const compareQuery = z.object({
  ids: z.string().max(maxTextLength, `at most ${String(maxTextLength)} characters`),
  metric: z
    .string()
    .min(1, 'required')
    .max(64, 'at most 64 characters')
    .refine((metric) => !metric.includes(','), 'one metric at a time'),
  period: z.enum(['day', 'week', 'month', 'year']).optional(),
  from: unixSecondsText.optional(),
  to: unixSecondsText.optional(),
});

export const insightsRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { store, nowSec, statuses } = context;
  const insights = new InsightsService(store, {
    log: context.log,
    // The inventory is saved once per collection cycle: loaded again when a cycle has ended.
    inventoryMark: async () => (await statuses()).map((status) => `${status.vcenterId}:${String(status.lastStartSec)}:${String(status.lastEndSec)}`).join(' '),
  });

  /** The datacenter `id` when the session may see it and it exists now, else 404. */
  const datacenterFor = async (request: FastifyRequest, id: string): Promise<StoredDatacenter> => {
    const entity = await shownEntity(store, request, id).catch(() => null);
    if (entity?.kind !== 'datacenter' || entity.removedAtSec !== null) throw notFound('This datacenter');
    return entity;
  };

  app.get<{ Params: { id: string } }>('/api/datacenters/:id/capacity', async (request, reply) => {
    const query = parseInput(capacityQuery, request.query, 'query');
    const datacenter = await datacenterFor(request, request.params.id);
    const { scope } = sessionOf(request);
    return sendPrepared(request, reply, await insights.capacity(datacenter, query.period, { scopeId: scope.id, visibility: scope }, nowSec()));
  });

  app.get<{ Params: { id: string } }>('/api/datacenters/:id/contention', async (request, reply) => {
    const query = parseInput(contentionQuery, request.query, 'query');
    const datacenter = await datacenterFor(request, request.params.id);
    const { scope } = sessionOf(request);
    return sendPrepared(request, reply, await insights.contention(datacenter, query, { scopeId: scope.id, visibility: scope }, nowSec()));
  });

  app.get('/api/compare', async (request) => {
    const query = parseInput(compareQuery, request.query, 'query');
    const ids = compareIds(query.ids);
    // Visibility first: a hidden id answers 404 before its kind is compared with the others.
    const entities = [];
    for (const id of ids) entities.push(await shownEntity(store, request, id));
    const kind = compareKind(entities);
    const plan = planSeries(kind, { period: query.period, from: query.from, to: query.to, metrics: query.metric }, nowSec());
    if (plan.metrics.length !== 1) throw badRequest('Compare one metric at a time.');
    return compareResponse(store, kind, entities, plan);
  });
  done();
};
