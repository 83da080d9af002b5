/**
 * Operations: GET /api/status (how collection goes, for the session's vCenter), the OpenAPI
 * document, GET /healthz (public: 200 while the server and its database answer) and, when
 * enabled, GET /metrics for Prometheus (global, protected by its own bearer token).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '../errors.ts';
import { preparedBody } from '../list-builder.ts';
import { openApiDocument } from '../openapi.ts';
import { sendPrepared } from '../prepared-body.ts';
import { statusResponse } from '../status.ts';
import { datacenterRows } from '../views.ts';
import { sessionOf, type RouteContext } from './context.ts';

export const operationsRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { store, auth, config, log, statuses, nowSec } = context;

  app.get('/api/status', async (request) => {
    const { vcenterId, scope } = sessionOf(request);
    const rows = await datacenterRows(store, vcenterId, scope);
    const sum = (key: 'clusters' | 'hosts' | 'vms' | 'datastores'): number => rows.reduce((total, row) => total + row[key], 0);
    return statusResponse({
      version: config.version,
      intervalSec: config.intervalSec,
      nowSec: nowSec(),
      vcenters: auth.vcenters().filter((vcenter) => vcenter.id === vcenterId),
      statuses: await statuses(),
      counts: { [vcenterId]: { datacenters: rows.length, clusters: sum('clusters'), hosts: sum('hosts'), vms: sum('vms'), datastores: sum('datastores') } },
    });
  });

  app.get('/api/openapi.json', () => openApiDocument(config.version));

  app.get('/healthz', async (_request, reply) => {
    let ok = false;
    try {
      ok = await store.ping();
    } catch (error) {
      log.warn({ err: error }, 'store ping failed');
    }
    void reply.code(ok ? 200 : 503);
    return { ok };
  });

  if (config.metrics === true) {
    const expected = config.metricsToken === undefined ? null : Buffer.from(`Bearer ${config.metricsToken}`);
    app.get('/metrics', async (request, reply) => {
      if (expected !== null) {
        const given = Buffer.from(request.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          void reply.header('www-authenticate', 'Bearer realm="vscope metrics"');
          throw new AppError('not_authenticated', 401, 'The metrics endpoint needs Authorization: Bearer <token> (VSCOPE_METRICS_TOKEN).');
        }
      }
      const built = await context.listBuilder.metrics({
        vcenters: auth.vcenters().map(({ id, name }) => ({ id, name })),
        statuses: await statuses(),
        nowSec: nowSec(),
        intervalSec: config.intervalSec,
      });
      return sendPrepared(request, reply, preparedBody(built), 'text/plain; version=0.0.4; charset=utf-8');
    });
  }
  done();
};
