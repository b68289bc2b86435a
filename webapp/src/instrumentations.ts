/**
 * The OpenTelemetry instrumentations the web app has (tracing.ts), by the names
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS and OTEL_NODE_DISABLED_INSTRUMENTATIONS use.
 *
 * Node's HTTP instrumentation is not among the defaults: @fastify/otel already reads the caller's
 * traceparent and makes the request's server span, and every request goes through Fastify, so the
 * HTTP span would be a second span over the same time. It cost about 95 µs of CPU per request,
 * sampled or not: some 40 % of what tracing cost the web app at 1 % sampling (docs/tracing.md).
 */
export const webappInstrumentations = {
  names: ['http', 'fastify', 'grpc', 'pino'],
  defaults: ['fastify', 'grpc', 'pino'],
} as const;
