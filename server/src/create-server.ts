import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { loadDiceApi, serviceNames } from '@dice/proto';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { AccessPolicy } from './access-policy.ts';
import { createIdentityReader } from './caller-identity.ts';
import { createDiceHandlers, type Roll } from './dice-service.ts';
import { createCallerAuthInterceptor } from './interceptors/caller-auth.ts';
import { createReplicaInterceptor } from './interceptors/replica.ts';
import { createRpcLogInterceptor } from './interceptors/rpc-log.ts';
import { createRpcMetricsInterceptor } from './interceptors/rpc-metrics.ts';

export interface DiceServer {
  /** Binds host:port over plaintext HTTP/2 (h2c) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Health goes NOT_SERVING at once. For drainDelayMs the server then goes on taking calls, so the
   * readiness probes that see NOT_SERVING take it out of the endpoints (and nginx's DNS answers)
   * before it stops listening. Then new calls are refused, in-flight calls may finish, and whatever
   * is still running graceMs later is cancelled.
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
  /** grpc.max_connection_age_ms, with calls in flight given up to the same again to finish. */
  maxConnectionAgeMs?: number;
}

export function createServer({ logger, roll, accessPolicy, replica = hostname(), metrics = new Registry(), maxConnectionIdleMs, maxConnectionAgeMs }: DiceServerOptions): DiceServer {
  const api = loadDiceApi();
  // Parsed once per call: every interceptor that asks for the identity of the same call's metadata
  // gets the same answer without parsing the certificate again.
  const readIdentity = createIdentityReader();
  // grpc-js wraps the call with these in order, so the first is nearest the transport: it sees a
  // call's metadata first and its status last. Metrics and the log line come first so they count
  // and log every call, also those the caller-auth interceptor (last, nearest the handler) refuses;
  // the replica name goes on every response, refusals included.
  const interceptors = [createRpcMetricsInterceptor(metrics), createRpcLogInterceptor(logger, readIdentity), createReplicaInterceptor(replica), createCallerAuthInterceptor(readIdentity, accessPolicy)];
  const server = new grpc.Server({
    ...(maxConnectionIdleMs === undefined ? {} : { 'grpc.max_connection_idle_ms': maxConnectionIdleMs }),
    ...(maxConnectionAgeMs === undefined ? {} : { 'grpc.max_connection_age_ms': maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': maxConnectionAgeMs }),
    interceptors,
  });
  server.addService(api.api.DiceService.service, createDiceHandlers(logger, roll));
  const health = new HealthImplementation({ '': 'NOT_SERVING', [serviceNames.dice]: 'NOT_SERVING' });
  health.addToServer(server);

  const setServing = (serving: boolean): void => {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', status);
    health.setStatus(serviceNames.dice, status);
  };

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        // h2c only: TLS ends at nginx, and the server is reachable only on the private network.
        server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
          if (error) return reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`));
          setServing(true);
          logger.info({ host, port: boundPort }, 'listening (h2c)');
          resolve(boundPort);
        });
      });
    },
    async shutdown(graceMs, drainDelayMs = 0) {
      setServing(false);
      if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
      return new Promise((resolve) => {
        const force = setTimeout(() => {
          logger.warn({ graceMs }, 'grace period over: cancelling calls still running');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
