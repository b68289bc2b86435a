import { randomUUID } from 'node:crypto';
import { metadataKeys } from '@dice/proto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { defaultHttpTimeouts, type HttpTimeouts } from './config.ts';
import { DiceCallError, type DiceRoller } from './dice-channel.ts';
import { htmlSecurityHeaders, httpAnswerFor } from './http-answers.ts';
import type { WebappMetrics } from './metrics.ts';
import httpMetrics from './plugins/http-metrics.ts';
import viewEngine from './plugins/view.ts';
import apiRoutes from './routes/api.ts';
import assetRoutes from './routes/assets.ts';
import benchRoutes from './routes/bench.ts';
import healthRoutes from './routes/health.ts';
import pageRoutes from './routes/pages.ts';


export interface AppOptions {
  dice: DiceRoller;
  logger?: FastifyBaseLogger;
  metrics?: WebappMetrics;
  httpTimeouts?: HttpTimeouts;
  /** What /healthz reports as degraded (the client certificate's expiry, from main.ts). */
  healthProblems?: () => string[];
  /** Benchmark-only routes (BENCH_ROUTES=on), see routes/bench.ts. */
  benchRoutes?: { channelPerRequestDice: DiceRoller };
}

// A caller's request id is kept only when it is short and plain, so it cannot forge log lines.
const requestIdSyntax = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An HTML page: its errors are rendered as a page, not as JSON. */
    page?: boolean;
  }
}

/**
 * app.close(), bounded: requests still running after graceMs have their connections closed, so
 * no client can hold the shutdown. Resolves once the app is closed either way.
 */
export async function closeWithin(app: FastifyInstance, graceMs: number, logger: { warn(object: object, message: string): void }): Promise<void> {
  const closed = app.close();
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([closed.then(() => false), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); })]);
  clearTimeout(timer);
  if (late) {
    logger.warn({ graceMs }, 'requests still running after the shutdown grace: closing their connections');
    app.server.closeAllConnections();
    await closed;
  }
}

/** The web app as Fastify plugins, one per concern; only main.ts listens. */
export function buildApp({ dice, logger, metrics, httpTimeouts = defaultHttpTimeouts, healthProblems, benchRoutes: bench }: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    connectionTimeout: httpTimeouts.connectionTimeoutMs,
    requestTimeout: httpTimeouts.requestTimeoutMs,
    keepAliveTimeout: httpTimeouts.keepAliveTimeoutMs,
    // One line per request (the onResponse hook below) instead of Fastify's two.
    disableRequestLogging: true,
    requestIdHeader: false,
    requestIdLogLabel: 'requestId',
    // The browser's (or a proxy's) x-request-id, else a new one; it follows the call to nginx and the server.
    genReqId: (request) => {
      const given = request.headers[metadataKeys.requestId];
      return typeof given === 'string' && requestIdSyntax.test(given) ? given : randomUUID();
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header(metadataKeys.requestId, request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 1000) / 1000, remoteAddress: request.ip }, 'request');
  });
  // app.close() waits for requests in flight; an event stream may run for minutes, so closing ends
  // each one at once with a final `failure` event (server-sent-events.ts).
  const shuttingDown = new AbortController();
  app.addHook('preClose', async () => shuttingDown.abort());
  // A keep-alive connection whose last response ends during the shutdown would otherwise hold
  // app.close() until the client drops it; close it as soon as it is idle.
  app.addHook('onResponse', async () => {
    if (shuttingDown.signal.aborted) setImmediate(() => app.server.closeIdleConnections());
  });
  if (metrics) app.register(httpMetrics, { metrics });
  app.register(viewEngine);
  app.register(pageRoutes, { dice });
  app.register(apiRoutes, { dice, shutdown: shuttingDown.signal });
  app.register(assetRoutes);
  app.register(healthRoutes, healthProblems ? { problems: healthProblems } : {});
  if (bench) app.register(benchRoutes, bench);

  // One place where failures leave: a failed dice call is a 503 (with Retry-After) or a 502 with its
  // gRPC code; anything unexpected is a plain 500. Causes go to the log, never to the user.
  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof DiceCallError) {
      const answer = httpAnswerFor(error);
      request.log.warn({ grpcCode: answer.grpcCode, details: error.message }, 'RollDie failed');
      reply.code(answer.statusCode).header('cache-control', 'no-store');
      if (answer.statusCode === 503) reply.header('retry-after', '1');
      if (request.routeOptions.config.page) return reply.headers(htmlSecurityHeaders).viewAsync('unavailable.eta', { sentence: answer.sentence });
      return { error: answer.sentence, grpcCode: answer.grpcCode };
    }
    const statusCode = error.statusCode ?? 500;
    if (statusCode < 500) {
      // A page answers a page (a form sent with a bad number of dice, say); the API answers JSON.
      if (request.routeOptions.config.page) return reply.code(statusCode).headers(htmlSecurityHeaders).viewAsync('unavailable.eta', { sentence: `That request could not be served (${error.message})` });
      return reply.code(statusCode).send({ error: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'Something went wrong on our side; it has been logged' });
  });

  return app;
}
