/**
 * Logging in and out: POST /api/session checks the credentials against vCenter itself
 * (SessionManager.Login) and sets the session cookie; GET tells who is logged in; DELETE ends
 * the session. GET /api/vcenters (public) lists the vCenters the login form offers.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { SessionInfo, VcenterSummary } from '../../shared/api.ts';
import { AppError, badRequest, invalidCredentials, noReadPermission, tooManyAttempts, unavailable, visibilityUnavailable } from '../errors.ts';
import type { Session } from '../sessions.ts';
import { loginBody, parseInput } from '../validate.ts';
import { sessionOf, type RouteContext } from './context.ts';

export const sessionCookieName = 'vscope_session';

/** Failed logins allowed per client address and per username within a minute. */
export const loginWindow = { limit: 5, windowMs: 60_000 } as const;
/** Keys (addresses, usernames) of failed logins kept at most; past that the least recent go. */
const maxLimiterKeys = 100_000;

export const sessionRoutes: FastifyPluginCallback<RouteContext> = (app, context, done) => {
  const { auth, sessions, config, loginLimiter: limiter, nowMs } = context;
  // Failures are kept by the store, shared by every front end; old ones are pruned here.
  const prune = setInterval(() => {
    Promise.resolve(limiter.pruneLoginFailures(nowMs() - loginWindow.windowMs, maxLimiterKeys)).catch((error: unknown) =>
      context.log.warn({ err: error }, 'pruning the failed logins failed; retrying in a minute'),
    );
  }, 60_000);
  prune.unref();
  app.addHook('onClose', () => clearInterval(prune));
  const sessionInfo = (current: Session): SessionInfo => ({
    username: current.username,
    vcenterId: current.vcenterId,
    expiresAtSec: Math.floor(sessions.expiresAtMs(current) / 1000),
  });

  app.post('/api/session', { config: { public: true } }, async (request, reply) => {
    const body = parseInput(loginBody, request.body, 'login request');
    const ipKey = `ip:${request.ip}`;
    const userKey = `user:${body.username.toLowerCase()}`;
    const waitSec = Math.max(await limiter.loginRetryAfterSec(ipKey, loginWindow, nowMs()), await limiter.loginRetryAfterSec(userKey, loginWindow, nowMs()));
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
    let noPermission: AppError | null = null;
    for (const vcenter of targets) {
      try {
        const login = await auth.login(vcenter.id, body.username, body.password);
        let scope;
        try {
          scope = await login.scope();
        } catch (error) {
          await login.logout();
          request.log.warn({ err: error, username: body.username, vcenterId: vcenter.id }, 'login refused: what the person may see could not be read');
          throw visibilityUnavailable(vcenter.name, error);
        }
        if (scope.readableCount === 0) {
          await login.logout();
          request.log.info({ username: body.username, vcenterId: vcenter.id }, 'login refused: no read permission');
          noPermission ??= noReadPermission(vcenter.name);
          continue;
        }
        const { token, session: created } = await sessions.create(body.username, vcenter.id, login, scope);
        // A login replaces the session the browser had, if any.
        if (request.vscopeSession) await sessions.end(request.vscopeSession.id);
        await limiter.clearLoginFailures(userKey);
        request.log.info({ username: body.username, vcenterId: vcenter.id, readable: scope.readableCount }, 'login');
        void reply.setCookie(sessionCookieName, token, {
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
      await limiter.recordLoginFailure(ipKey, loginWindow, nowMs());
      await limiter.recordLoginFailure(userKey, loginWindow, nowMs());
      request.log.info({ username: body.username, ip: request.ip }, 'login refused');
    }
    throw noPermission ?? unreachable ?? invalidCredentials();
  });

  app.get('/api/session', (request) => sessionInfo(sessionOf(request)));

  app.delete('/api/session', async (request, reply) => {
    await sessions.end(sessionOf(request).id);
    void reply.clearCookie(sessionCookieName, { path: '/', httpOnly: true, sameSite: 'strict', secure: config.secureCookies });
    return reply.code(204).send();
  });

  app.get('/api/vcenters', { config: { public: true } }, (): VcenterSummary[] =>
    auth.vcenters().map((vcenter) => ({ id: vcenter.id, name: vcenter.name })),
  );
  done();
};
