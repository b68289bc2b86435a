import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { healthServicePrefix, loadDiceApi, serviceNames } from '@dice/proto';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { AccessPolicy } from './access-policy.ts';
import { addReflection } from './reflection.ts';
import { createIdentityReader } from './caller-identity.ts';
import { createDiceHandlers, type Roll } from './dice-service.ts';
import { createCallInterceptor } from './call-interceptor.ts';
import { createCallRecorder } from './call-record.ts';
import type { Tracer } from '@opentelemetry/api';
import { createStreamGuard } from './stream-guard.ts';
import { createH2cConnections } from './h2c-connections.ts';
import { serverDefaults } from './config.ts';
import type { EdgeTokens } from './edge-tokens.ts';

export interface DiceServer {
  /** Binds host:port over plaintext HTTP/2 (h2c) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Health goes NOT_SERVING at once. For drainDelayMs the server then goes on taking calls, so the
   * readiness probes that see NOT_SERVING take it out of the endpoints (and nginx's DNS answers)
   * before it stops listening. Then new connections are refused and every connection gets a GOAWAY;
   * in-flight calls may finish, and the connections are closed once no call has run for a moment
   * (h2c-connections.ts says why not at once). Whatever is still running graceMs later is cancelled.
   */
  shutdown(graceMs: number, drainDelayMs?: number): Promise<void>;
}

export interface DiceServerOptions {
  logger: Logger;
  roll?: Roll;
  /** Which client CNs may call which methods; undefined lets every verified client call anything. */
  accessPolicy?: AccessPolicy;
  /** Named in every response's x-dice-replica metadata; the container's hostname in compose. */
  replica?: string;
  /** Where the RPC metrics go; a fresh registry by default. */
  metrics?: Registry;
  /** grpc.max_connection_idle_ms; grpc-js's default (never) when undefined. */
  maxConnectionIdleMs?: number;
  /** grpc.max_connection_age_ms, with calls in flight given up to the same again to finish; also the longest a stream lasts. */
  maxConnectionAgeMs?: number;
  /** A stream with no message either way for this long is ended with DEADLINE_EXCEEDED (below the edge's stream timeout). */
  streamIdleMs?: number;
  /** The largest message the server reads (grpc.max_receive_message_length); larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  /** The edge's tokens (edge-tokens.ts): a call without one is UNAUTHENTICATED. main.ts always gives them. */
  edgeTokens?: EdgeTokens;
  /** A span per RPC (call-record.ts) when tracing is on; main.ts gives it then. */
  tracer?: Tracer | undefined;
}

/** Every status a health watcher hears is sent again this often, so a quiet Watch is never idle. */
const heartbeatsPerIdleTime = 2;

export function createServer({
  logger,
  roll,
  accessPolicy,
  replica = hostname(),
  metrics = new Registry(),
  maxConnectionIdleMs,
  maxConnectionAgeMs,
  streamIdleMs = serverDefaults.STREAM_IDLE_TIMEOUT_MS,
  maxMessageBytes = serverDefaults.MAX_MESSAGE_BYTES,
  edgeTokens,
  tracer,
}: DiceServerOptions): DiceServer {
  const api = loadDiceApi();
  const streams = createStreamGuard({ idleMs: streamIdleMs, maxAgeMs: maxConnectionAgeMs ?? Number.POSITIVE_INFINITY });
  const interceptor = createCallInterceptor({ record: createCallRecorder(logger, metrics, { tracer, replica }), readIdentity: createIdentityReader({ edgeTokens }), accessPolicy, replica, streams });
  const server = new grpc.Server({
    ...(maxConnectionIdleMs === undefined ? {} : { 'grpc.max_connection_idle_ms': maxConnectionIdleMs }),
    ...(maxConnectionAgeMs === undefined ? {} : { 'grpc.max_connection_age_ms': maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': maxConnectionAgeMs }),
    'grpc.max_receive_message_length': maxMessageBytes,
    interceptors: [interceptor],
  });
  server.addService(api.api.DiceService.service, createDiceHandlers(logger, roll));
  const health = new HealthImplementation({ '': 'NOT_SERVING', [serviceNames.dice]: 'NOT_SERVING' });
  health.addToServer(server);

  addReflection(server);
  const connections = createH2cConnections(server, logger);

  let servingStatus: 'SERVING' | 'NOT_SERVING' = 'NOT_SERVING';
  const setServing = (serving: boolean): void => {
    servingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', servingStatus);
    health.setStatus(serviceNames.dice, servingStatus);
  };
  // Health/Watch sends a message only when the status changes, so a watcher's stream would sit
  // quiet until the stream guard (or the edge) ended it; sending the status again keeps it open,
  // and a client's health checker takes a repeated status as no change.
  const heartbeat = setInterval(() => setServing(servingStatus === 'SERVING'), Math.max(50, Math.floor(streamIdleMs / heartbeatsPerIdleTime)));
  heartbeat.unref();

  return {
    async listen(host, port) {
      // h2c only: TLS ends at nginx, and the server is reachable only on the private network.
      const boundPort = await connections.listen(host, port);
      setServing(true);
      logger.info({ host, port: boundPort }, 'listening (h2c)');
      return boundPort;
    },
    async shutdown(graceMs, drainDelayMs = 0) {
      setServing(false);
      if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
      clearInterval(heartbeat);
      // Health watchers have heard NOT_SERVING; ending their streams now lets them watch another
      // replica instead of holding this one's shutdown for the whole grace.
      streams.endStreams({ code: grpc.status.UNAVAILABLE, details: 'this server replica is shutting down: watch again, another replica will answer' }, (path) => path.startsWith(healthServicePrefix));
      const deadline = Date.now() + graceMs;
      // The last second of the grace (half of a short one): streams still open end with a status a
      // client can act on (forceShutdown would cut them, and nginx would pass that on as a bare
      // RST_STREAM), then the peers get half of it to close their connections.
      const lastPart = Math.min(1000, graceMs / 2);
      const endStreams = setTimeout(() => {
        const ended = streams.endStreams({ code: grpc.status.UNAVAILABLE, details: 'this server replica is shutting down: open the stream again, another replica will answer' });
        if (ended > 0) logger.warn({ ended }, 'grace period nearly over: ended the streams still open with UNAVAILABLE');
      }, graceMs - lastPart);
      try {
        await connections.drain(deadline - lastPart / 2);
        // What is left: idle connections closed at once, a call still running once it ends.
        server.tryShutdown(() => undefined);
        const left = await connections.closed(deadline);
        if (left > 0) logger.warn({ graceMs, connections: left }, 'grace period over: cancelling calls still running');
      } finally {
        clearTimeout(endStreams);
        // Cuts what is left, and releases grpc-js's own state either way.
        server.forceShutdown();
        streams.stop();
        connections.stop();
      }
    },
  };
}
