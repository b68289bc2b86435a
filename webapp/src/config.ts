import { readChoice, readInteger, readLogBufferBytes, readLogLevel, readRequired, readString, type Env, type LogLevel } from '@dice/common';

/** Server-side timeouts for the HTTP port, in milliseconds (WebappConfig.httpTimeouts). */
export interface HttpTimeouts {
  /** A connection that sends nothing for this long is closed (slow-loris). */
  connectionTimeoutMs: number;
  /** A request must have arrived completely within this long. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is kept this long; above the usual 60 s of load balancers. */
  keepAliveTimeoutMs: number;
}

export const defaultHttpTimeouts: HttpTimeouts = { connectionTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 72_000 };

/** Web app settings, read once from the environment at start-up. */
export interface WebappConfig {
  host: string;
  port: number;
  /** host:port of the gRPC edge (nginx), whose certificate must name this host. */
  diceTarget: string;
  /** Overrides the name checked in the edge's certificate, for a target addressed by IP or alias. */
  tlsServerName: string | undefined;
  tlsFiles: { ca: string; cert: string; key: string };
  /** Deadline of each RollDie call. */
  deadlineMs: number;
  logLevel: LogLevel;
  /** Log lines are written this many bytes at a time (within a second); 0 writes each line at once. */
  logBufferBytes: number;
  /** Prometheus metrics (GET /metrics) listen here, apart from the public port. */
  metricsPort: number;
  /** Log a warning when the client certificate has fewer days left than this. */
  certificateWarnDays: number;
  /** Benchmark-only routes under /bench/ (see buildApp); never on in a deployment. */
  benchRoutes: boolean;
  /** Timeouts of the HTTP port (connection, whole request, idle keep-alive). */
  httpTimeouts: HttpTimeouts;
}

export function loadWebappConfig(env: Env = process.env): WebappConfig {
  const serverName = readString(env, 'TLS_SERVER_NAME', '');
  return {
    host: readString(env, 'HOST', '0.0.0.0'),
    port: readInteger(env, 'PORT', 8000, 1, 65535),
    diceTarget: readString(env, 'DICE_TARGET', 'nginx:9443'),
    tlsServerName: serverName === '' ? undefined : serverName,
    tlsFiles: {
      ca: readRequired(env, 'TLS_CA_FILE', 'the path of the CA certificate that signed the edge certificate (ca.pem)'),
      cert: readRequired(env, 'TLS_CERT_FILE', "the path of this app's client certificate (client.pem)"),
      key: readRequired(env, 'TLS_KEY_FILE', "the path of this app's client private key (client-key.pem)"),
    },
    deadlineMs: readInteger(env, 'DICE_DEADLINE_MS', 2000, 1, 60_000),
    logLevel: readLogLevel(env),
    logBufferBytes: readLogBufferBytes(env),
    metricsPort: readInteger(env, 'METRICS_PORT', 9464, 1, 65535),
    certificateWarnDays: readInteger(env, 'CERT_EXPIRY_WARN_DAYS', 30, 0, 3650),
    benchRoutes: readChoice(env, 'BENCH_ROUTES', 'off', ['on', 'off'] as const) === 'on',
    httpTimeouts: {
      connectionTimeoutMs: readInteger(env, 'HTTP_CONNECTION_TIMEOUT_MS', defaultHttpTimeouts.connectionTimeoutMs, 1, 600_000),
      requestTimeoutMs: readInteger(env, 'HTTP_REQUEST_TIMEOUT_MS', defaultHttpTimeouts.requestTimeoutMs, 1, 600_000),
      keepAliveTimeoutMs: readInteger(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', defaultHttpTimeouts.keepAliveTimeoutMs, 1, 600_000),
    },
  };
}
