import { readInteger, readLogLevel, readString, type Env, type LogLevel } from '@dice/common';
import { parseAccessPolicy, type AccessPolicy } from './access-policy.ts';

/** Server settings, read once from the environment at start-up. */
export interface ServerConfig {
  host: string;
  port: number;
  /** How long in-flight calls may run after SIGTERM before the server force-closes them. */
  shutdownGraceMs: number;
  logLevel: LogLevel;
  /** From ACCESS_POLICY; undefined when unset (every client the edge verified may call). */
  accessPolicy: AccessPolicy | undefined;
  /** Prometheus metrics (GET /metrics) listen here, apart from the gRPC port. */
  metricsPort: number;
}

export function loadServerConfig(env: Env = process.env): ServerConfig {
  return {
    host: readString(env, 'HOST', '0.0.0.0'),
    port: readInteger(env, 'PORT', 50051, 1, 65535),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    logLevel: readLogLevel(env),
    accessPolicy: parseAccessPolicy(readString(env, 'ACCESS_POLICY', '')),
    metricsPort: readInteger(env, 'METRICS_PORT', 9464, 1, 65535),
  };
}
