import { createServiceLogger, onShutdownSignal, runMain, startMetricsServer, stopTracing } from '@dice/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildApp, closeWithin } from './app.ts';
import { loadWebappConfig } from './config.ts';
import { createReloadingDiceClient } from './reloading-dice-client.ts';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { createChannelPerCallRoller, createDiceChannel, type DiceChannel } from './dice-channel.ts';
import { loadClientCredentials } from './tls-files.ts';
import { createWebappMetrics } from './metrics.ts';
import { watchClientCertificate, watchEdgeCertificate } from './certificate-expiry.ts';

await runMain('webapp', async () => {
  const config = loadWebappConfig();
  const logger = createServiceLogger('webapp', config.logLevel, { chunkBytes: config.logBufferBytes });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createWebappMetrics(registry);
  const connect = (credentials: ChannelCredentials): DiceChannel =>
    createDiceChannel({
      target: config.diceTarget,
      credentials,
      deadlineMs: config.deadlineMs,
      tlsServerName: config.tlsServerName,
      onCallEnd: (method, code, seconds) => metrics.observeDiceCall(method, code, seconds),
    });
  const dice = createReloadingDiceClient({ tlsFiles: config.tlsFiles, logger, connect });
  const benchRoutes = config.benchRoutes ? { channelPerRequestDice: createChannelPerCallRoller(() => connect(loadClientCredentials(config.tlsFiles))) } : undefined;
  if (benchRoutes) logger.warn('BENCH_ROUTES=on: benchmark routes under /bench/ are served; turn this off outside benchmarks');
  const warnDays = config.certificateWarnDays;
  const expiries = [
    watchClientCertificate({ certFile: config.tlsFiles.cert, registry, logger, warnDays }),
    watchEdgeCertificate({ target: config.diceTarget, tlsFiles: config.tlsFiles, tlsServerName: config.tlsServerName, registry, logger, warnDays }),
  ];
  const healthProblems = (): string[] => expiries.map((expiry) => expiry.problem()).filter((problem) => problem !== undefined);
  const app = buildApp({ dice, logger, metrics, httpTimeouts: config.httpTimeouts, healthProblems, ...(benchRoutes ? { benchRoutes } : {}) });
  await app.listen({ host: config.host, port: config.port });
  const metricsServer = await startMetricsServer(registry, config.host, config.metricsPort);
  logger.info({ port: metricsServer.port }, 'metrics at GET /metrics');
  logger.info({ diceTarget: config.diceTarget }, 'rolling dice through the gRPC edge');
  onShutdownSignal(async (signal) => {
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: no new connections, requests in flight finish, event streams end');
    await closeWithin(app, config.shutdownGraceMs, logger);
    dice.close();
    for (const expiry of expiries) expiry.stop();
    await stopTracing();
    logger.info('stopped');
  });
});
