/**
 * The HTTP app factory: builds the Fastify instance (routes, session check, error handler,
 * static UI) without listening. Only main.ts listens (see `listen`).
 */
import { timingSafeEqual } from 'node:crypto';
import { fastifyCookie } from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { DatacenterRow, SessionInfo, VcenterSummary } from '../shared/api.ts';
import { kindOfId } from '../shared/entity-id.ts';
import type { CollectionStatus, Store, StoredDatacenter, StoredEntity } from '../store/store.ts';
import type { Authenticator } from './auth.ts';
import {
  AppError,
  badRequest,
  forbiddenOrigin,
  internalErrorBody,
  invalidCredentials,
  methodNotAllowed,
  notAuthenticated,
  notFound,
  tooManyAttempts,
  unavailable,
} from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { planSeries } from './series.ts';
import { SeriesCache } from './series-cache.ts';
import { FailureLimiter, SessionStore, type Session } from './sessions.ts';
import { statusResponse } from './status.ts';
import { listQuery, loginBody, parseInput, seriesQuery } from './validate.ts';
import { sendPrepared } from './prepared-body.ts';
import { inlineListBuilder, preparedBody, type ListBuilder } from './list-builder.ts';
import { ListCache } from './list-cache.ts';
import { datacenterRows, entityDetail, locate, type EntityPlace } from './views.ts';

export const sessionCookieName = 'vscope_session';

/** Failed logins allowed per client address and per username within `loginWindowMs`. */
export const loginFailureLimit = 5;
export const loginWindowMs = 60_000;

export interface AppConfig {
  /** Collection interval, seconds (for staleness). */
  readonly intervalSec: number;
  readonly version: string;
  /** A session unused this long expires (8 h is a sensible default). */
  readonly sessionIdleSec: number;
  /** A session expires this long after login whatever its use. */
  readonly sessionMaxSec: number;
  /** Mark the session cookie Secure (serve over https, or behind a TLS proxy). */
  readonly secureCookies: boolean;
  /** Folder of the built UI, served at / with SPA fallback to index.html. */
  readonly webRoot?: string;
  /** Serve GET /metrics (Prometheus). Off unless true. */
  readonly metrics?: boolean;
  /**
   * How long a cached datacenter/VM/datastore list may lag behind the store, ms. Default 0
   * (always current); `vscope serve` uses a few seconds so that a collection cycle's many
   * small writes do not make every request rebuild a 5,000-VM list.
   */
  readonly listMaxStaleMs?: number;
  /** When set, /metrics answers only requests with `Authorization: Bearer <metricsToken>`. */
  readonly metricsToken?: string;
  /** Serve https with this certificate and key (PEM). */
  readonly https?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Fastify's trustProxy: take the client address from X-Forwarded-For (for the login limiter). */
  readonly trustProxy?: boolean | string;
}

/** Live collection status, when the collector runs in this process (else the store's copy is used). */
export interface CollectorStatusSource {
  status(): readonly CollectionStatus[];
}

export interface AppDeps {
  readonly store: Store;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Clock, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  readonly config: AppConfig;
  readonly collector?: CollectorStatusSource;
  /** Builds the VM and datastore lists; default: in this thread. `vscope serve` uses a worker thread. */
  readonly listBuilder?: ListBuilder;
}

declare module 'fastify' {
  interface FastifyRequest {
    vscopeSession: Session | null;
  }
  interface FastifyContextConfig {
    /** Reachable without a session. */
    public?: boolean;
  }
}

/** One info line per request: method, path (no query), status, ms. Nothing else of the request. */
class RequestLogController extends LogController {
  override incomingRequest(): void {}
  override routeNotFound(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const path = request.url.split('?', 1)[0] ?? '';
    reply.log.info(
      {
        method: request.method,
        url: path.length > 200 ? `${path.slice(0, 200)}...` : path,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(error ? { failed: true } : {}),
      },
      'request',
    );
  }
}

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The Origin header, when present, must name the same host as the Host header. */
function checkOrigin(request: FastifyRequest): void {
  if (!stateChanging.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw forbiddenOrigin();
  }
  if (originHost === '' || originHost.toLowerCase() !== (request.headers.host ?? '').toLowerCase()) throw forbiddenOrigin();
}

const fastifyCodes: Readonly<Record<number, string>> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

/** A route pattern as a regex, for the 405 check (`:id` matches one segment). */
function patternRegex(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}$`);
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { store, auth, log, config } = deps;
  const nowMs = deps.now ?? Date.now;
  const nowSec = (): number => Math.floor(nowMs() / 1000);

  const common = {
    loggerInstance: log,
    logController: new RequestLogController(),
    requestIdHeader: false as const,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    // URLs the router rejects before any route (bad percent-encoding, overlong segments).
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply.code(tooLong ? 414 : 400).send({
        error: tooLong
          ? { code: 'uri_too_long', message: 'A path segment is too long (at most 200 characters).' }
          : { code: 'bad_request', message: 'The URL is not valid (check its percent-encoding).' },
      });
    },
    ...(config.trustProxy === undefined ? {} : { trustProxy: config.trustProxy }),
  };
  const app = (config.https ? Fastify({ ...common, https: { cert: config.https.cert, key: config.https.key } }) : Fastify(common)) as unknown as FastifyInstance;

  const pendingLogouts = new Set<Promise<void>>();
  const sessions = new SessionStore({
    idleSec: config.sessionIdleSec,
    maxSec: config.sessionMaxSec,
    nowMs,
    onEnd: (session) => {
      const pending = session.vsphere
        .logout()
        .catch((error: unknown) => {
          log.warn({ err: error, vcenterId: session.vcenterId }, 'vSphere logout failed (the vCenter session will expire by itself)');
        })
        .finally(() => pendingLogouts.delete(pending));
      pendingLogouts.add(pending);
    },
  });
  const limiter = new FailureLimiter(loginFailureLimit, loginWindowMs, nowMs);
  const statuses = async (): Promise<readonly CollectionStatus[]> => deps.collector?.status() ?? (await store.statuses());

  // Routes this app declares, for the 405 answer and the OpenAPI coverage test.
  const declared: { method: string; url: string; regex: RegExp }[] = [];
  declaredByApp.set(app, declared);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api') && route.url !== '/healthz' && route.url !== '/metrics') return;
    for (const method of [route.method].flat()) declared.push({ method, url: route.url, regex: patternRegex(route.url) });
  });

  void app.register(fastifyCookie, { hook: false });
  if (config.webRoot !== undefined) {
    void app.register(fastifyStatic, {
      root: config.webRoot,
      wildcard: true,
      setHeaders: (reply, path) => {
        // Vite names assets by content hash: cache them for good; index.html never.
        reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  app.decorateRequest('vscopeSession', null);
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      checkOrigin(request);
      const token = fastifyCookie.parse(request.headers.cookie ?? '')[sessionCookieName];
      request.vscopeSession = token === undefined ? null : sessions.touch(token);
      const route = request.routeOptions.url;
      const needsSession = route !== undefined && route.startsWith('/api') && request.routeOptions.config.public !== true;
      if (needsSession && request.vscopeSession === null) throw notAuthenticated();
      done();
    } catch (error) {
      done(error as Error);
    }
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    if (request.url.startsWith('/api')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.warn({ code: error.code, cause: error.cause }, error.message);
      void reply.code(error.statusCode).headers(error.headers).send({ error: { code: error.code, message: error.message } });
      return;
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large...) have safe, useful messages.
      // Truncated: some quote a header (Content-Type), which the client may have made huge.
      const message = error.message.length > 300 ? `${error.message.slice(0, 300)}...` : error.message;
      void reply.code(status).send({ error: { code: fastifyCodes[status] ?? 'bad_request', message } });
      return;
    }
    request.log.error({ err: error }, 'unexpected error');
    void reply.code(500).send(internalErrorBody);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    const isApi = path === '/api' || path.startsWith('/api/');
    if (
      !isApi &&
      config.webRoot !== undefined &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      path !== '/healthz' &&
      path !== '/metrics'
    ) {
      // The UI routes on the client: any other page path gets index.html.
      void reply.header('cache-control', 'no-cache').sendFile('index.html');
      return;
    }
    const allowed = [...new Set(declared.filter((route) => route.regex.test(path)).map((route) => route.method))];
    if (allowed.length > 0) throw methodNotAllowed(request.method, path.slice(0, 200), allowed);
    throw notFound(`${request.method} ${path.slice(0, 200)}`);
  });

  const session = (request: FastifyRequest): Session => {
    if (!request.vscopeSession) throw notAuthenticated();
    return request.vscopeSession;
  };
  const sessionInfo = (current: Session): SessionInfo => ({
    username: current.username,
    vcenterId: current.vcenterId,
    expiresAtSec: Math.floor(sessions.expiresAtMs(current) / 1000),
  });

  /** The datacenter `id` when it belongs to the session's vCenter, else 404. */
  const datacenterFor = async (request: FastifyRequest, id: string, includeRemoved: boolean): Promise<StoredDatacenter> => {
    const current = session(request);
    const entity = kindOfId(id) === 'datacenter' ? await store.entity(id) : null;
    if (entity?.kind !== 'datacenter' || entity.vcenterId !== current.vcenterId || (entity.removedAtSec !== null && !includeRemoved)) {
      throw notFound('This datacenter');
    }
    return entity;
  };
  const locateFor = async (request: FastifyRequest, id: string): Promise<EntityPlace> => {
    const current = session(request);
    const place = kindOfId(id) === null ? null : await locate(store, id);
    if (!place || place.vcenterId !== current.vcenterId) throw notFound('This entity');
    return place;
  };
  /** Like locateFor without the datacenter: one lookup (two for a NIC), for the busiest route. */
  const entityFor = async (request: FastifyRequest, id: string): Promise<StoredEntity> => {
    const current = session(request);
    const entity = kindOfId(id) === null ? null : await store.entity(id);
    const owner = entity?.kind === 'nic' ? await store.entity(entity.hostId) : entity;
    if (!entity || owner?.kind === 'nic' || owner?.vcenterId !== current.vcenterId) throw notFound('This entity');
    return entity;
  };

  // --- session ---------------------------------------------------------------------------

  app.post('/api/session', { config: { public: true } }, async (request, reply) => {
    const body = parseInput(loginBody, request.body, 'login request');
    const ipKey = `ip:${request.ip}`;
    const userKey = `user:${body.username.toLowerCase()}`;
    const waitSec = Math.max(limiter.retryAfterSec(ipKey), limiter.retryAfterSec(userKey));
    if (waitSec > 0) throw tooManyAttempts(waitSec);

    const known = auth.vcenters();
    if (known.length === 0) throw unavailable('No vCenter is configured on this server.');
    let targets = known;
    if (body.vcenter !== undefined) {
      const wanted = body.vcenter;
      targets = known.filter((vcenter) => vcenter.id === wanted);
      if (targets.length === 0) throw badRequest(`Unknown vcenter; allowed: ${known.map((vcenter) => vcenter.id).join(', ')}.`);
    }

    let rejected = false;
    let unreachable: AppError | null = null;
    for (const vcenter of targets) {
      try {
        const handle = await auth.login(vcenter.id, body.username, body.password);
        const created = sessions.create(body.username, vcenter.id, handle);
        // A login replaces the session the browser had, if any.
        if (request.vscopeSession) sessions.end(request.vscopeSession.id);
        limiter.clear(userKey);
        request.log.info({ username: body.username, vcenterId: vcenter.id }, 'login');
        void reply.setCookie(sessionCookieName, created.id, {
          httpOnly: true,
          sameSite: 'strict',
          path: '/',
          secure: config.secureCookies,
          maxAge: config.sessionMaxSec,
        });
        return sessionInfo(created);
      } catch (error) {
        if (error instanceof AppError && error.code === 'invalid_credentials') rejected = true;
        else if (error instanceof AppError && error.code === 'vcenter_unavailable') unreachable ??= error;
        else throw error;
      }
    }
    if (rejected) {
      limiter.fail(ipKey);
      limiter.fail(userKey);
      request.log.info({ username: body.username, ip: request.ip }, 'login refused');
    }
    throw unreachable ?? invalidCredentials();
  });

  app.get('/api/session', (request) => sessionInfo(session(request)));

  app.delete('/api/session', (request, reply) => {
    sessions.end(session(request).id);
    void reply.clearCookie(sessionCookieName, { path: '/', httpOnly: true, sameSite: 'strict', secure: config.secureCookies });
    void reply.code(204).send();
  });

  app.get('/api/vcenters', { config: { public: true } }, (): VcenterSummary[] =>
    auth.vcenters().map((vcenter) => ({ id: vcenter.id, name: vcenter.name })),
  );

  // --- inventory ---------------------------------------------------------------------------

  app.get('/api/datacenters', async (request): Promise<DatacenterRow[]> => {
    const { vcenterId } = session(request);
    // A few datacenters, counted in SQL (under a millisecond at 5,000 VMs): not cached.
    const rows = await datacenterRows(store, vcenterId);
    // collectedAt comes from the live status (the collector's, when it runs in this process).
    const lastSuccess = (await statuses()).find((status) => status.vcenterId === vcenterId)?.lastSuccessSec ?? null;
    return rows.map((row) => ({ ...row, collectedAt: lastSuccess }));
  });

  const builder = deps.listBuilder ?? inlineListBuilder(store);
  const lists = new ListCache({
    builder,
    version: () => store.dataVersion?.(),
    cycleMark: async () =>
      (await statuses())
        .map((status) => `${status.vcenterId}:${String(status.lastStartSec)}:${String(status.lastEndSec)}:${String(status.lastDurationMs)}`)
        .join(' '),
    nowMs,
    maxStaleMs: config.listMaxStaleMs ?? 0,
    log,
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

  const seriesCache = new SeriesCache(store);
  app.get<{ Params: { id: string } }>('/api/entities/:id/series', async (request, reply) => {
    const entity = await entityFor(request, request.params.id);
    const query = parseInput(seriesQuery, request.query, 'query');
    const plan = planSeries(entity.kind, query, nowSec());
    return sendPrepared(request, reply, await seriesCache.answer(entity, plan));
  });

  // --- operations --------------------------------------------------------------------------

  app.get('/api/status', async (request) => {
    const current = session(request);
    return statusResponse({
      version: config.version,
      intervalSec: config.intervalSec,
      nowSec: nowSec(),
      vcenters: auth.vcenters().filter((vcenter) => vcenter.id === current.vcenterId),
      statuses: await statuses(),
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
      const built = await builder.metrics({
        vcenters: auth.vcenters().map(({ id, name }) => ({ id, name })),
        statuses: await statuses(),
        nowSec: nowSec(),
        intervalSec: config.intervalSec,
      });
      return sendPrepared(request, reply, preparedBody(built), 'text/plain; version=0.0.4; charset=utf-8');
    });
  }

  app.addHook('onClose', async () => {
    sessions.endAll();
    await Promise.allSettled([...pendingLogouts]);
  });

  return app;
}

const declaredByApp = new WeakMap<FastifyInstance, readonly { method: string; url: string }[]>();

/** Routes the app declares under /api, /healthz and /metrics (HEAD included), for docs and tests. */
export function declaredRoutes(app: FastifyInstance): readonly { method: string; url: string }[] {
  return declaredByApp.get(app) ?? [];
}

/**
 * Parses a listen spec: `8080` (loopback), `:8080` (every interface), `host:port`, `[v6]:port`.
 * @throws Error naming the expected forms
 */
export function parseListen(spec: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(spec.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new Error(`listen "${spec}" is not valid: use PORT, :PORT, HOST:PORT or [IPv6]:PORT`);
  }
  const rawHost = match[1];
  const host = rawHost === undefined ? '127.0.0.1' : rawHost === '' ? '0.0.0.0' : rawHost.replace(/^\[|\]$/g, '');
  return { host, port };
}

/** True when the listen spec binds only the loopback interface. */
export function isLoopbackListen(spec: string): boolean {
  const { host } = parseListen(spec);
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Listens on the spec (see parseListen) and resolves with the bound address, e.g.
 * `http://127.0.0.1:8080`. TLS is chosen when building the app (`config.https`).
 */
export async function listen(app: FastifyInstance, listenSpec: string): Promise<string> {
  const { host, port } = parseListen(listenSpec);
  return app.listen({ host, port });
}
