// Loaded before the web app (node --import ./dist/tracing.js), as OpenTelemetry documents for ESM,
// importing nothing it would instrument (so @dice/common/tracing, not the index that loads pino):
// when the environment asks for traces (common/src/tracing.ts), the module hook and the
// instrumentations go in before Fastify, grpc-js and pino are imported: a server span per HTTP
// request (Node's HTTP and @fastify/otel), a client span per gRPC call carrying traceparent to the
// edge (@opentelemetry/instrumentation-grpc), and trace_id/span_id on every log line written inside
// a traced request (@opentelemetry/instrumentation-pino).
import { register } from 'node:module';
import { startTracing, tracingWanted } from '@dice/common/tracing';

if (tracingWanted()) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [{ HttpInstrumentation }, { GrpcInstrumentation }, { PinoInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-grpc'),
    import('@opentelemetry/instrumentation-pino'),
    import('@fastify/otel'),
  ]);
  await startTracing({
    serviceName: 'dice-webapp',
    instrumentations: [new HttpInstrumentation(), new FastifyOtelInstrumentation({ registerOnInitialization: true }), new GrpcInstrumentation(), new PinoInstrumentation()],
  });
}
