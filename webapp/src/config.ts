import { choiceSetting, integerSetting, loggingSettings, readSettings, requiredSetting, textSetting, type Env, type LogLevel, type RuntimeSetting } from '@dice/common';
import { webappInstrumentations } from './instrumentations.ts';

/**
 * Every environment variable the web app reads, declared once: readers, defaults and
 * docs/configuration.md (make docs) all come from this table.
 */
export const webappSettings = {
  HOST: textSetting('0.0.0.0', 'an address', 'The address the HTTP and metrics ports listen on.'),
  PORT: integerSetting(8000, 1, 65535, 'The HTTP port of the page and the JSON API.'),
  DICE_TARGET: textSetting('nginx:9443', 'host:port', "The gRPC edge (nginx); its certificate must name the host, or TLS_SERVER_NAME."),
  TLS_SERVER_NAME: textSetting('', 'a DNS name', "The name checked in the edge's certificate when it differs from DICE_TARGET's host (an IP, an alias); empty: DICE_TARGET's host."),
  TLS_CA_FILE: requiredSetting('the path of the CA certificate that signed the edge certificate (ca.pem)', "The CA the edge's certificate must chain to (the server CA)."),
  TLS_CERT_FILE: requiredSetting("the path of this app's client certificate (client.pem)", "This app's client certificate, presented to the edge; followed when the file changes."),
  TLS_KEY_FILE: requiredSetting("the path of this app's client private key (client-key.pem)", "The client certificate's private key."),
  DICE_DEADLINE_MS: integerSetting(2000, 1, 60_000, 'The deadline of each RollDie call; a stream of N dice gets N times it.'),
  METRICS_PORT: integerSetting(9464, 1, 65535, 'Prometheus metrics (`GET /metrics`), apart from the public port.'),
  CERT_EXPIRY_WARN_DAYS: integerSetting(30, 0, 3650, "The longest warning before the client certificate, or the edge's, expires: a warning is logged and `/healthz` says `degraded` once fewer days than this, or a quarter of its lifetime (a 24-hour certificate: 6 hours), are left."),
  BENCH_ROUTES: choiceSetting('off', ['on', 'off'] as const, '`on` serves `/bench/hello` and `/bench/roll-new-channel` for make bench; never in a deployment.'),
  // Below Docker's 10 s stop timeout and the Deployment's 15 s terminationGracePeriodSeconds.
  SHUTDOWN_GRACE_MS: integerSetting(5000, 0, 600_000, 'After SIGTERM, how long requests in flight may take before their connections are closed; event streams end at once with a `failure` event.'),
  HTTP_CONNECTION_TIMEOUT_MS: integerSetting(10_000, 1, 600_000, 'A connection that sends nothing for this long is closed (slow clients).'),
  HTTP_REQUEST_TIMEOUT_MS: integerSetting(15_000, 1, 600_000, 'A request must have arrived completely within this long.'),
  // Above the 60 s most load balancers keep an idle connection, so they close it first.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integerSetting(72_000, 1, 600_000, 'An idle keep-alive connection is kept this long.'),
  ...loggingSettings,
} as const;

/** What the web app's tracing.ts reads besides the OpenTelemetry variables both services pass to the SDK. */
export const webappTracingSettings: Readonly<Record<string, RuntimeSetting>> = {
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: {
    defaultText: webappInstrumentations.defaults.join(','),
    meaning: `With tracing on, the instrumentations the web app runs, of ${webappInstrumentations.names.map((name) => `\`${name}\``).join(', ')}; \`http\` adds Node's HTTP span above Fastify's server span, at a cost per request (docs/tracing.md).`,
  },
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: { defaultText: '', meaning: 'With tracing on, instrumentations taken away from those OTEL_NODE_ENABLED_INSTRUMENTATIONS names.' },
};

/** Server-side timeouts for the HTTP port, in milliseconds (WebappConfig.httpTimeouts). */
export interface HttpTimeouts {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

const timeouts = (settings: Record<'HTTP_CONNECTION_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS', number>): HttpTimeouts => ({
  connectionTimeoutMs: settings.HTTP_CONNECTION_TIMEOUT_MS,
  requestTimeoutMs: settings.HTTP_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: settings.HTTP_KEEP_ALIVE_TIMEOUT_MS,
});

/** The HTTP timeouts when none is set (buildApp's defaults). */
export const defaultHttpTimeouts: HttpTimeouts = timeouts({
  HTTP_CONNECTION_TIMEOUT_MS: webappSettings.HTTP_CONNECTION_TIMEOUT_MS.defaultValue,
  HTTP_REQUEST_TIMEOUT_MS: webappSettings.HTTP_REQUEST_TIMEOUT_MS.defaultValue,
  HTTP_KEEP_ALIVE_TIMEOUT_MS: webappSettings.HTTP_KEEP_ALIVE_TIMEOUT_MS.defaultValue,
});

/** Web app settings, read once from the environment at start-up. */
export interface WebappConfig {
  host: string;
  port: number;
  diceTarget: string;
  /** undefined: the name checked is DICE_TARGET's host. */
  tlsServerName: string | undefined;
  tlsFiles: { ca: string; cert: string; key: string };
  deadlineMs: number;
  logLevel: LogLevel;
  logBufferBytes: number;
  metricsPort: number;
  certificateWarnDays: number;
  shutdownGraceMs: number;
  /** Benchmark-only routes under /bench/ (see buildApp); never on in a deployment. */
  benchRoutes: boolean;
  httpTimeouts: HttpTimeouts;
}

export function loadWebappConfig(env: Env = process.env): WebappConfig {
  const settings = readSettings(webappSettings, env);
  return {
    host: settings.HOST,
    port: settings.PORT,
    diceTarget: settings.DICE_TARGET,
    tlsServerName: settings.TLS_SERVER_NAME === '' ? undefined : settings.TLS_SERVER_NAME,
    tlsFiles: { ca: settings.TLS_CA_FILE, cert: settings.TLS_CERT_FILE, key: settings.TLS_KEY_FILE },
    deadlineMs: settings.DICE_DEADLINE_MS,
    logLevel: settings.LOG_LEVEL,
    logBufferBytes: settings.LOG_BUFFER_BYTES,
    metricsPort: settings.METRICS_PORT,
    certificateWarnDays: settings.CERT_EXPIRY_WARN_DAYS,
    shutdownGraceMs: settings.SHUTDOWN_GRACE_MS,
    benchRoutes: settings.BENCH_ROUTES === 'on',
    httpTimeouts: timeouts(settings),
  };
}
