import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyView from '@fastify/view';
import { status as grpcStatus } from '@grpc/grpc-js';
import { Eta } from 'eta';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { DiceCallError, type DiceRoller, type RollResult } from './dice-client.ts';
import { dieFace } from './die-faces.ts';
import type { WebappMetrics } from './metrics.ts';
import { metadataKeys } from '@dice/proto';

export interface AppOptions {
  dice: DiceRoller;
  logger?: FastifyBaseLogger;
  metrics?: WebappMetrics;
  /**
   * Benchmark-only routes (BENCH_ROUTES=on), for `make bench`: GET /bench/hello, the web tier's
   * ceiling, and GET /bench/roll-new-channel, /api/roll with this roller, which opens a new channel
   * (and TLS handshake) per request as the original tutorial did.
   */
  benchRoutes?: { channelPerRequestDice: DiceRoller };
}

export const unavailableSentence = 'The dice service is unavailable, try again shortly';
const refusedSentence = 'The dice service could not answer this request; the problem has been logged';

/** gRPC codes that mean "try again later" rather than "something is misconfigured". */
const transientCodes = new Set([grpcStatus.UNAVAILABLE, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.RESOURCE_EXHAUSTED, grpcStatus.ABORTED, grpcStatus.CANCELLED]);

interface DiceFailure {
  httpStatus: 502 | 503;
  sentence: string;
  grpcCode: string;
}

function describeFailure(error: DiceCallError): DiceFailure {
  return transientCodes.has(error.code)
    ? { httpStatus: 503, sentence: unavailableSentence, grpcCode: error.codeName }
    : { httpStatus: 502, sentence: refusedSentence, grpcCode: error.codeName };
}

const htmlSecurityHeaders = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

// A caller's request id is kept only when it is short and plain, so it cannot forge log lines.
const requestIdSyntax = /^[A-Za-z0-9._:-]{1,128}$/;

export function buildApp({ dice, logger, metrics, benchRoutes }: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
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
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, not the URL, so unknown paths cannot blow up the label set.
      metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  app.register(fastifyView, {
    engine: { eta: new Eta({ autoEscape: true }) },
    root: fileURLToPath(new URL('../views/', import.meta.url)),
    layout: 'layout.eta',
    production: true,
  });

  async function rollOrFail(reply: FastifyReply, roller = dice): Promise<RollResult | DiceFailure> {
    try {
      return await roller.roll({ requestId: reply.request.id });
    } catch (error) {
      if (!(error instanceof DiceCallError)) throw error;
      const failure = describeFailure(error);
      reply.log.warn({ grpcCode: failure.grpcCode, details: error.message }, 'RollDie failed');
      if (failure.httpStatus === 503) reply.header('retry-after', '1');
      return failure;
    }
  }

  app.get('/', async (_request, reply) => {
    const result = await rollOrFail(reply);
    reply.headers({ ...htmlSecurityHeaders, 'cache-control': 'no-store' });
    if ('httpStatus' in result) {
      reply.code(result.httpStatus);
      return reply.viewAsync('unavailable.eta', { sentence: result.sentence });
    }
    return reply.viewAsync('index.eta', { value: result.value, face: dieFace(result.value), replica: result.replica });
  });

  const rollAsJson = (roller: DiceRoller) => async (_request: unknown, reply: FastifyReply) => {
    const result = await rollOrFail(reply, roller);
    reply.header('cache-control', 'no-store');
    if ('httpStatus' in result) {
      return reply.code(result.httpStatus).send({ error: result.sentence, grpcCode: result.grpcCode });
    }
    return { value: result.value, replica: result.replica };
  };
  app.get('/api/roll', rollAsJson(dice));

  if (benchRoutes) {
    app.get('/bench/hello', async () => ({ hello: 'world' }));
    app.get('/bench/roll-new-channel', rollAsJson(benchRoutes.channelPerRequestDice));
  }

  // Polled by the container healthcheck every few seconds: keep it out of the info log.
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  // Anything unexpected becomes a plain 500: the cause goes to the log, never to the user.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (statusCode < 500) return reply.code(statusCode).send({ error: error.message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'Something went wrong on our side; it has been logged' });
  });

  return app;
}
