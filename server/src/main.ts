import { createServiceLogger, onShutdownSignal, runMain, startMetricsServer, stopTracing } from '@dice/common';
import { tracingWanted } from '@dice/common/tracing';
import { trace } from '@opentelemetry/api';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadServerConfig } from './config.ts';
import { createServer } from './create-server.ts';
import { watchEdgeTokens } from './edge-tokens.ts';

await runMain('server', async () => {
  const config = loadServerConfig();
  const logger = createServiceLogger('server', config.logLevel, { chunkBytes: config.logBufferBytes });
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const edgeTokens = watchEdgeTokens(config.edgeTokenFile, logger);
  const server = createServer({
    logger,
    edgeTokens,
    accessPolicy: config.accessPolicy,
    metrics,
    maxConnectionIdleMs: config.maxConnectionIdleMs,
    maxConnectionAgeMs: config.maxConnectionAgeMs,
    streamIdleMs: config.streamIdleMs,
    maxMessageBytes: config.maxMessageBytes,
    // tracing.ts (node --import) started the SDK when the OTEL_* variables ask for it.
    tracer: tracingWanted() ? trace.getTracer('dice-server') : undefined,
  });
  await server.listen(config.host, config.port);
  const metricsServer = await startMetricsServer(metrics, config.host, config.metricsPort);
  logger.info({ port: metricsServer.port }, 'metrics at GET /metrics');
  onShutdownSignal(async (signal) => {
    logger.info({ signal, graceMs: config.shutdownGraceMs, drainDelayMs: config.drainDelayMs }, 'shutting down: health NOT_SERVING, draining calls');
    await server.shutdown(config.shutdownGraceMs, config.drainDelayMs);
    await stopTracing();
    logger.info('stopped');
  });
});
