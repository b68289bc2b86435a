import { readInteger, readLogBufferBytes, readLogLevel, readString, type Env, type LogLevel } from '@dice/common';
import { parseAccessPolicy, type AccessPolicy } from './access-policy.ts';

/** Server settings, read once from the environment at start-up. */
export interface ServerConfig {
  host: string;
  port: number;
  /** How long in-flight calls may run after SIGTERM before the server force-closes them. */
  shutdownGraceMs: number;
  /** After SIGTERM, how long the server reports NOT_SERVING but still takes calls (for readiness probes). */
  drainDelayMs: number;
  logLevel: LogLevel;
  /** Log lines are written this many bytes at a time (within a second); 0 writes each line at once. */
  logBufferBytes: number;
  /** From ACCESS_POLICY; undefined when unset (every client the edge verified may call). */
  accessPolicy: AccessPolicy | undefined;
  /** Prometheus metrics (GET /metrics) listen here, apart from the gRPC port. */
  metricsPort: number;
  /** Connections without a call for this long get a GOAWAY (grpc.max_connection_idle_ms). */
  maxConnectionIdleMs: number;
  /** Connections are renewed after this long (grpc.max_connection_age_ms), calls finish first. */
  maxConnectionAgeMs: number;
  /** A stream with no message either way for this long is ended with DEADLINE_EXCEEDED and a sentence. */
  streamIdleMs: number;
  /** The largest request message the server reads; larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
}

export function loadServerConfig(env: Env = process.env): ServerConfig {
  return {
    host: readString(env, 'HOST', '0.0.0.0'),
    port: readInteger(env, 'PORT', 50051, 1, 65535),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    // 0 under compose (Docker's DNS drops a container only once it has stopped); a few seconds on a
    // cluster, where readiness decides the endpoints nginx resolves.
    drainDelayMs: readInteger(env, 'DRAIN_DELAY_MS', 0, 0, 600_000),
    logLevel: readLogLevel(env),
    logBufferBytes: readLogBufferBytes(env),
    accessPolicy: parseAccessPolicy(readString(env, 'ACCESS_POLICY', '')),
    metricsPort: readInteger(env, 'METRICS_PORT', 9464, 1, 65535),
    // 5 min: above nginx's upstream keepalive_timeout (60 s), so nginx closes an idle connection
    // before the server would, and a GOAWAY never races a call nginx sends on it. Also what frees
    // the connection of every kubelet gRPC probe (grpc-node #2975).
    maxConnectionIdleMs: readInteger(env, 'MAX_CONNECTION_IDLE_MS', 300_000, 1_000, 86_400_000),
    maxConnectionAgeMs: readInteger(env, 'MAX_CONNECTION_AGE_MS', 1_800_000, 1_000, 86_400_000),
    // 50 s: below the edge's EDGE_STREAM_IDLE_TIMEOUT (60 s), so a quiet stream ends here with a
    // status and a sentence before nginx would reset it with neither.
    streamIdleMs: readInteger(env, 'STREAM_IDLE_TIMEOUT_MS', 50_000, 100, 86_400_000),
    // 64 KiB, as the edge's EDGE_MAX_REQUEST_SIZE: on a stream nginx counts the whole body, so the
    // limit on one message is kept here.
    maxMessageBytes: readInteger(env, 'MAX_MESSAGE_BYTES', 65_536, 1_024, 4 * 1024 * 1024),
  };
}
