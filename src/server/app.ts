/**
 * The HTTP app factory: builds the Fastify instance (routes, session check, error handler,
 * static UI) without listening. Only main.ts listens (see `listen`).
 */
import { fastifyCookie } from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CollectionStatus, LoginLimiterStore, SessionStore, Store } from '../store/store.ts';
import type { Authenticator } from './auth.ts';
import { AppError, forbiddenOrigin, internalErrorBody, methodNotAllowed, notAuthenticated, notFound } from './errors.ts';
import { inlineListBuilder, type ListBuilder } from './list-builder.ts';
import type { RouteContext } from './routes/context.ts';
import { insightsRoutes } from './routes/insights-routes.ts';
import { inventoryRoutes } from './routes/inventory-routes.ts';
import { operationsRoutes } from './routes/operations-routes.ts';
import { seriesRoutes } from './routes/series-routes.ts';
import { sessionCookieName, sessionRoutes } from './routes/session-routes.ts';
import { Sessions, type Session } from './sessions.ts';

export interface AppConfig {
  /** Collection interval, seconds (for staleness). */
  readonly intervalSec: number;
  readonly version: string;
  /** A session unused this long expires (8 h is a sensible default). */
  readonly sessionIdleSec: number;
  /** A session expires this long after login whatever its use. */
  readonly sessionMaxSec: number;
  /**
   * How often what each person may see is asked of vCenter again, seconds (at most 900: a
   * change of permissions shows within that time). Default 600.
   */
  readonly scopeRefreshSec?: number;
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
  /** Where sessions and what each one may see are kept (shared by every front end). */
  readonly sessionStore: SessionStore;
  /** Where failed logins are counted (shared by every front end, so that the limit holds across them). */
  readonly loginLimiter: LoginLimiterStore;
  /** The sessions, when the caller drives them (tests refresh scopes at will); default: built from sessionStore and the config. */
  readonly sessions?: Sessions;
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

  const sessions =
    deps.sessions ??
    new Sessions({
      store: deps.sessionStore,
      idleSec: config.sessionIdleSec,
      maxSec: config.sessionMaxSec,
      refreshSec: config.scopeRefreshSec ?? 600,
      nowMs,
      log,
    });
  sessions.start();
  // Without a collector in this process (a front end), the statuses are the store's, which the
  // collectors write once per cycle: read again only when the store's data version moved.
  let storedStatuses: { readonly version: number | undefined; readonly value: Promise<readonly CollectionStatus[]> } | null = null;
  const statuses = async (): Promise<readonly CollectionStatus[]> => {
    if (deps.collector) return deps.collector.status();
    const version = await store.dataVersion?.();
    if (storedStatuses === null || version === undefined || storedStatuses.version !== version) {
      const value = Promise.resolve(store.statuses());
      storedStatuses = { version, value };
      value.catch(() => {
        storedStatuses = null;
      });
    }
    return storedStatuses.value;
  };

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
  app.addHook('onRequest', async (request) => {
    checkOrigin(request);
    const token = fastifyCookie.parse(request.headers.cookie ?? '')[sessionCookieName];
    request.vscopeSession = token === undefined ? null : await sessions.touch(token);
    const route = request.routeOptions.url;
    const needsSession = route !== undefined && route.startsWith('/api') && request.routeOptions.config.public !== true;
    if (needsSession && request.vscopeSession === null) throw notAuthenticated();
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

  const context: RouteContext = {
    store,
    auth,
    log,
    config,
    sessions,
    loginLimiter: deps.loginLimiter,
    listBuilder: deps.listBuilder ?? inlineListBuilder(store, deps.sessionStore),
    nowMs,
    nowSec,
    statuses,
  };
  void app.register(sessionRoutes, context);
  void app.register(inventoryRoutes, context);
  void app.register(seriesRoutes, context);
  void app.register(insightsRoutes, context);
  void app.register(operationsRoutes, context);

  // The sessions stay stored (another front end may serve them); the vSphere sessions held
  // here are logged out, so those sessions end at their scope's deadline.
  app.addHook('onClose', () => sessions.close());

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
