import { onShutdownSignal, runMain } from '@dice/common';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { loadWebappConfig } from './config.ts';
import { createDiceClient, loadClientCredentials } from './dice-client.ts';

await runMain('webapp', async () => {
  const config = loadWebappConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'webapp' } });
  const dice = createDiceClient({
    target: config.diceTarget,
    credentials: loadClientCredentials(config.tlsFiles),
    deadlineMs: config.deadlineMs,
    tlsServerName: config.tlsServerName,
  });
  const app = buildApp({ dice, logger });
  await app.listen({ host: config.host, port: config.port });
  logger.info({ diceTarget: config.diceTarget }, 'rolling dice through the gRPC edge');
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    dice.close();
  });
});
