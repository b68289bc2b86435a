// OpenTelemetry tracing, configured only by the specification's own variables: on when an OTLP
// endpoint is named (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
// OTEL_SDK_DISABLED is not true; OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER(_ARG), OTEL_RESOURCE_ATTRIBUTES
// and the exporter's OTEL_EXPORTER_OTLP_* settings as the SDK reads them. Off, the SDK is never even
// loaded, so tracing off costs nothing. Each service's tracing.ts starts it before anything else
// loads (node --import), as OpenTelemetry documents for ESM.
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { Env } from './env.ts';

/** Whether the environment asks for traces. */
export function tracingWanted(env: Env = process.env): boolean {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return Boolean(endpoint) && env['OTEL_SDK_DISABLED']?.trim().toLowerCase() !== 'true';
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

/**
 * Starts the SDK with the OTLP/gRPC exporter behind a batch processor (a bounded queue: a collector
 * that is down, slow or refusing drops spans, never holds a call) and the given instrumentations.
 * The exporter's failures are said once, not once per batch.
 */
export async function startTracing({ serviceName, instrumentations = [] }: { serviceName: string; instrumentations?: NodeSDKConfiguration['instrumentations'] }): Promise<void> {
  const [{ NodeSDK }, { OTLPTraceExporter }, { diag, DiagLogLevel }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/exporter-trace-otlp-grpc'), import('@opentelemetry/api')]);
  let said = false;
  diag.setLogger(
    {
      error: (message: string) => {
        if (said) return;
        said = true;
        process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), service: serviceName, msg: `the trace exporter failed; spans are dropped while it does (said once): ${exporterReason(message)}` })}\n`);
      },
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.ERROR,
  );
  const sdk = new NodeSDK({
    serviceName: process.env['OTEL_SERVICE_NAME'] || serviceName,
    traceExporter: new OTLPTraceExporter(),
    instrumentations,
  });
  sdk.start();
  stopSdk = () => sdk.shutdown();
}

/** Exports the spans still queued and stops the SDK (a no-op when tracing is off): the last step of a shutdown. */
export async function stopTracing(): Promise<void> {
  await stopSdk?.().catch(() => {});
}
