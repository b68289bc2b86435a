// Loaded before the web app (node --import ./dist/tracing.js), as OpenTelemetry documents for ESM,
// importing nothing it would instrument (so @dice/common/tracing, not the index that loads pino):
// when the environment asks for traces (common/src/tracing.ts), the module hook and the
// instrumentations go in before Fastify, grpc-js and pino are imported: a server span per HTTP
// request (@fastify/otel), a client span per gRPC call carrying traceparent to the edge
// (@opentelemetry/instrumentation-grpc), and trace_id/span_id on every log line written inside a
// traced request (@opentelemetry/instrumentation-pino; the lines themselves go to the collector
// only when OTEL_LOGS_EXPORTER asks). Node's HTTP instrumentation runs when
// OTEL_NODE_ENABLED_INSTRUMENTATIONS names it (webappInstrumentations).
import { register } from 'node:module';
import { runMain } from '@dice/common/main-runner';
import { chosenInstrumentations, otlpSignalWanted, startTracing, tracingWanted } from '@dice/common/tracing';
import type { FastifyRequest } from 'fastify';
import { webappInstrumentations } from './instrumentations.ts';

/** Health probes and metric scrapes come every few seconds from the platform: a trace each would bury the requests people make. */
const untracedPaths = new Set(['/healthz', '/metrics']);
const untraced = (url: string | undefined): boolean => untracedPaths.has((url ?? '').split('?')[0] ?? '');

await runMain('webapp', async () => {
  if (!tracingWanted()) return;
  const chosen = chosenInstrumentations(webappInstrumentations.names, webappInstrumentations.defaults);
  // Only the packages the instrumentations patch and this app imports as ESM go through the hook.
  const hooked = [chosen.has('grpc') && '@grpc/grpc-js', chosen.has('pino') && 'pino'].filter((name) => name !== false);
  if (hooked.length > 0) register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: hooked } });
  const instrumentations = [];
  if (chosen.has('http')) {
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    instrumentations.push(new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => untraced(request.url), disableOutgoingRequestInstrumentation: true }));
  }
  if (chosen.has('fastify')) {
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    instrumentations.push(
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // A span per lifecycle hook would time this app's own bookkeeping (request id, metrics, the
        // log line) on every request, sampled or not: the request and handler spans, and the gRPC
        // span under them, are where the time goes.
        instrumentHooks: false,
        ignorePaths: ({ url }) => untraced(url),
        // Without Node's HTTP span above it, the request span is the server span: named as the
        // semantic conventions name one, `GET /api/roll`, rather than `request`.
        ...(chosen.has('http') ? {} : { requestHook: (span, request: FastifyRequest) => span.updateName(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`) }),
      }),
    );
  }
  if (chosen.has('grpc')) {
    const { GrpcInstrumentation } = await import('@opentelemetry/instrumentation-grpc');
    instrumentations.push(new GrpcInstrumentation());
  }
  if (chosen.has('pino')) {
    const { PinoInstrumentation } = await import('@opentelemetry/instrumentation-pino');
    instrumentations.push(new PinoInstrumentation({ disableLogSending: !otlpSignalWanted('logs') }));
  }
  await startTracing({ serviceName: 'dice-webapp', instrumentations });
});
