// Loaded before the web app (node --import ./dist/tracing.js), as OpenTelemetry documents for ESM,
// importing nothing it would instrument (so @dice/common/tracing, not the index that loads pino):
// when the environment asks for traces (common/src/tracing.ts), the module hook and the
// instrumentations go in before Fastify, grpc-js and pino are imported: a server span per HTTP
// request (Node's HTTP and @fastify/otel), a client span per gRPC call carrying traceparent to the
// edge (@opentelemetry/instrumentation-grpc), and trace_id/span_id on every log line written inside
// a traced request (@opentelemetry/instrumentation-pino; the lines themselves go to the collector only
// when OTEL_LOGS_EXPORTER asks).
import { register } from 'node:module';
import { otlpSignalWanted, startTracing, tracingWanted } from '@dice/common/tracing';

/** Health probes and metric scrapes come every few seconds from the platform: a trace each would bury the requests people make. */
const untracedPaths = new Set(['/healthz', '/metrics']);
const untraced = (url: string | undefined): boolean => untracedPaths.has((url ?? '').split('?')[0] ?? '');

if (tracingWanted()) {
  // Only the packages the instrumentations patch and this app imports as ESM go through the hook.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['@grpc/grpc-js', 'pino'] } });
  const [{ HttpInstrumentation }, { GrpcInstrumentation }, { PinoInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-grpc'),
    import('@opentelemetry/instrumentation-pino'),
    import('@fastify/otel'),
  ]);
  await startTracing({
    serviceName: 'dice-webapp',
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => untraced(request.url) }),
      // A span per lifecycle hook would time this app's own bookkeeping (request id, metrics, the
      // log line) on every request: the request and handler spans, and the gRPC span under them, are
      // where the time goes. Leaving them out is also most of what tracing costs when not sampled.
      new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHooks: false, ignorePaths: ({ url }) => untraced(url) }),
      new GrpcInstrumentation(),
      new PinoInstrumentation({ disableLogSending: !otlpSignalWanted('logs') }),
    ],
  });
}
