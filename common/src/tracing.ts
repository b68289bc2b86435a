// OpenTelemetry tracing, configured only by the specification's own variables: on when an OTLP
// endpoint is named (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
// OTEL_SDK_DISABLED is not true; OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER(_ARG), OTEL_RESOURCE_ATTRIBUTES
// and the exporter's OTEL_EXPORTER_OTLP_* settings as the SDK reads them. Off, the SDK is never even
// loaded, so tracing off costs nothing. Each service's tracing.ts starts it before anything else
// loads (node --import), as OpenTelemetry documents for ESM.
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { ConfigError, type Env } from './env.ts';

/** Whether the environment asks for traces. */
export function tracingWanted(env: Env = process.env): boolean {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return Boolean(endpoint) && env['OTEL_SDK_DISABLED']?.trim().toLowerCase() !== 'true';
}

/**
 * Whether the SDK should export metrics or logs too. The specification's default for both is otlp, but
 * this stack has its own ways out for them (Prometheus on METRICS_PORT, JSON lines on stdout), and
 * the SDK's defaults cost every request: a meter on each HTTP request and each log line parsed and
 * queued again. So they go out over OTLP only when OTEL_METRICS_EXPORTER or OTEL_LOGS_EXPORTER names
 * an exporter (otlp, console), by the specification's own variables.
 */
export function otlpSignalWanted(signal: 'metrics' | 'logs', env: Env = process.env): boolean {
  const exporters = (env[signal === 'metrics' ? 'OTEL_METRICS_EXPORTER' : 'OTEL_LOGS_EXPORTER'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  return exporters.length > 0 && !exporters.includes('none');
}

/**
 * The instrumentations a service runs, chosen as OpenTelemetry's Node distributions choose them:
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS lists the ones to run (unset: the service's defaults), then
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS takes some away; names are the packages' without
 * `@opentelemetry/instrumentation-`. A name the service does not have stops it (ConfigError).
 */
export function chosenInstrumentations<Name extends string>(names: readonly Name[], defaults: readonly Name[], env: Env = process.env): Set<Name> {
  const list = (variable: string): Name[] | undefined => {
    const text = env[variable]?.trim();
    if (!text) return undefined;
    const listed = text.split(',').map((name) => name.trim()).filter(Boolean);
    const unknown = listed.filter((name) => !(names as readonly string[]).includes(name));
    if (unknown.length > 0) throw new ConfigError(`${variable} names ${unknown.join(', ')}, which this service does not have: it has ${names.join(', ')}`);
    return listed as Name[];
  };
  const chosen = new Set(list('OTEL_NODE_ENABLED_INSTRUMENTATIONS') ?? defaults);
  for (const name of list('OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? []) chosen.delete(name);
  return chosen;
}

let stopSdk: (() => Promise<void>) | undefined;

/** The SDK reports an export failure as the error serialized to JSON, stack included: its message is what a person needs. */
export function exporterReason(message: string): string {
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: a sentence already
  }
  return message.split('\n')[0] ?? message;
}

type SpanExporter = NodeSDKConfiguration['traceExporter'];
type LogLine = (level: 'warn' | 'info', msg: string) => void;

/**
 * Says when exporting stops working and when it works again: one line each per outage, where the
 * SDK would report every failed batch (each one again after its 10 s timeout when the collector is
 * slow). Failures reach it from the SDK's diagnostics (diagError, with the reason) and from the
 * exporter's results (exporter(): how many spans were lost, and the first success after them).
 */
export function exportOutageReporter(say: LogLine): { diagError(message: string): void; exporter(inner: SpanExporter): SpanExporter } {
  let failing = false;
  let lostSpans = 0;
  const fail = (reason: string): void => {
    if (failing) return;
    failing = true;
    say('warn', `the trace exporter failed; spans are dropped until it works again (said once per outage): ${reason}`);
  };
  return {
    diagError: (message) => fail(exporterReason(message)),
    exporter: (inner) => ({
      export(spans, done) {
        inner.export(spans, (result) => {
          // ExportResultCode.SUCCESS is 0.
          if (result.code !== 0) {
            lostSpans += spans.length;
            fail(exporterReason(result.error?.message ?? 'the export failed'));
          } else if (failing) {
            say('info', `the trace exporter works again; ${lostSpans} spans of failed exports were dropped meanwhile`);
            failing = false;
            lostSpans = 0;
          }
          done(result);
        });
      },
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    }),
  };
}

/**
 * Starts the SDK with the OTLP/gRPC exporter behind a batch processor (a bounded queue, one export at
 * a time: a collector that is down, slow or refusing drops spans, never holds a call) and the given
 * instrumentations. The exporter's failures are said once per outage, not once per batch.
 */
export async function startTracing({ serviceName, instrumentations = [] }: { serviceName: string; instrumentations?: NodeSDKConfiguration['instrumentations'] }): Promise<void> {
  const [{ NodeSDK }, { OTLPTraceExporter }, { diag, DiagLogLevel }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/exporter-trace-otlp-grpc'), import('@opentelemetry/api')]);
  const outages = exportOutageReporter((level, msg) => process.stderr.write(`${JSON.stringify({ level: level === 'warn' ? 40 : 30, time: Date.now(), service: serviceName, msg })}\n`));
  const silent = (): void => {};
  diag.setLogger({ error: outages.diagError, warn: silent, info: silent, debug: silent, verbose: silent }, DiagLogLevel.ERROR);
  const sdk = new NodeSDK({
    serviceName: process.env['OTEL_SERVICE_NAME'] || serviceName,
    traceExporter: outages.exporter(new OTLPTraceExporter()),
    // An empty list: no metric reader (so no meter provider) and no log processor; left out: the SDK reads the variable.
    ...(otlpSignalWanted('metrics') ? {} : { metricReaders: [] }),
    ...(otlpSignalWanted('logs') ? {} : { logRecordProcessors: [] }),
    instrumentations,
  });
  sdk.start();
  stopSdk = () => sdk.shutdown();
}

/** Exports the spans still queued and stops the SDK (a no-op when tracing is off): the last step of a shutdown. */
export async function stopTracing(): Promise<void> {
  await stopSdk?.().catch(() => {});
}
