import { onShutdownSignal, runMain } from '@dice/common';
import { pino } from 'pino';
import { loadServerConfig } from './config.ts';
import { createServer } from './create-server.ts';

await runMain('server', async () => {
  const config = loadServerConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'server' } });
  const server = createServer({ logger, accessPolicy: config.accessPolicy });
  await server.listen(config.host, config.port);
  onShutdownSignal(async (signal) => {
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: health NOT_SERVING, draining calls');
    await server.shutdown(config.shutdownGraceMs);
    logger.info('stopped');
  });
});
