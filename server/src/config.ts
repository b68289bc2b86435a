import { integerSetting, loggingSettings, readSettings, textSetting, type Env, type LogLevel } from '@dice/common';
import { parseAccessPolicy, type AccessPolicy } from './access-policy.ts';

/**
 * Every environment variable the server reads, declared once: readers, defaults and
 * docs/configuration.md (make docs) all come from this table.
 */
export const serverSettings = {
  HOST: textSetting('0.0.0.0', 'an address', 'The address the gRPC and metrics ports listen on.'),
  PORT: integerSetting(50051, 1, 65535, 'The gRPC port: plaintext HTTP/2 (h2c), for the edge only.'),
  SHUTDOWN_GRACE_MS: integerSetting(10_000, 0, 600_000, 'After SIGTERM, how long calls in flight may run before the server cancels them.'),
  // 0 suits compose (Docker's DNS drops a container only once it has stopped); a few seconds on a
  // cluster, where readiness decides the endpoints nginx resolves.
  DRAIN_DELAY_MS: integerSetting(0, 0, 600_000, 'After SIGTERM, how long health says NOT_SERVING while calls are still taken, so readiness probes take the replica out first.'),
  ACCESS_POLICY: textSetting<AccessPolicy | undefined>('', 'rules `METHOD=CN,CN;…` (docs/identity-and-access.md)', 'Which client certificate CNs may call which methods; empty lets every client the edge verified call everything.', (text, name) => parseAccessPolicy(text, name)),
  EDGE_TOKEN_FILE: textSetting('/run/secrets/edge-token', 'a file path', "The edge's token file, which the edge reads too: a call is believed to come through the edge only with one of its tokens (docs/identity-and-access.md)."),
  METRICS_PORT: integerSetting(9464, 1, 65535, 'Prometheus metrics (`GET /metrics`), apart from the gRPC port.'),
  // 5 min: above nginx's upstream keepalive_timeout (60 s), so nginx closes an idle connection
  // before the server would, and a GOAWAY never races a call nginx sends on it. Also what frees
  // the connection of every kubelet gRPC probe (grpc-node #2975).
  MAX_CONNECTION_IDLE_MS: integerSetting(300_000, 1_000, 86_400_000, 'A connection without a call for this long gets a GOAWAY (grpc.max_connection_idle_ms).'),
  MAX_CONNECTION_AGE_MS: integerSetting(1_800_000, 1_000, 86_400_000, 'Connections are renewed after this long, calls finishing first (grpc.max_connection_age_ms); also the longest a stream lasts.'),
  // 50 s: below the edge's EDGE_STREAM_IDLE_TIMEOUT (60 s), so a quiet stream ends here with a
  // status and a sentence before nginx would reset it with neither.
  STREAM_IDLE_TIMEOUT_MS: integerSetting(50_000, 100, 86_400_000, 'A stream with no message either way for this long ends with DEADLINE_EXCEEDED and a sentence; keep it below EDGE_STREAM_IDLE_TIMEOUT.'),
  // 64 KiB, as the edge's EDGE_MAX_REQUEST_SIZE: on a stream nginx counts the whole body, so the
  // limit on one message is kept here.
  MAX_MESSAGE_BYTES: integerSetting(65_536, 1_024, 4 * 1024 * 1024, 'The largest request message the server reads; a larger one is RESOURCE_EXHAUSTED.'),
  ...loggingSettings,
} as const;

/** The server's settings when nothing is set: the defaults createServer() uses. */
export const serverDefaults = readSettings(serverSettings, {});

/** Server settings, read once from the environment at start-up. */
export interface ServerConfig {
  host: string;
  port: number;
  shutdownGraceMs: number;
  drainDelayMs: number;
  logLevel: LogLevel;
  logBufferBytes: number;
  /** undefined when unset: every client the edge verified may call. */
  accessPolicy: AccessPolicy | undefined;
  edgeTokenFile: string;
  metricsPort: number;
  maxConnectionIdleMs: number;
  maxConnectionAgeMs: number;
  streamIdleMs: number;
  maxMessageBytes: number;
}

export function loadServerConfig(env: Env = process.env): ServerConfig {
  const settings = readSettings(serverSettings, env);
  return {
    host: settings.HOST,
    port: settings.PORT,
    shutdownGraceMs: settings.SHUTDOWN_GRACE_MS,
    drainDelayMs: settings.DRAIN_DELAY_MS,
    logLevel: settings.LOG_LEVEL,
    logBufferBytes: settings.LOG_BUFFER_BYTES,
    accessPolicy: settings.ACCESS_POLICY,
    edgeTokenFile: settings.EDGE_TOKEN_FILE,
    metricsPort: settings.METRICS_PORT,
    maxConnectionIdleMs: settings.MAX_CONNECTION_IDLE_MS,
    maxConnectionAgeMs: settings.MAX_CONNECTION_AGE_MS,
    streamIdleMs: settings.STREAM_IDLE_TIMEOUT_MS,
    maxMessageBytes: settings.MAX_MESSAGE_BYTES,
  };
}
