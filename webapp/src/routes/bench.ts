import type { FastifyInstance } from 'fastify';
import type { DiceRoller } from '../dice-channel.ts';
import { rollResponses } from '../schemas.ts';
import { rollAsJson } from './api.ts';

/**
 * Benchmark-only routes (BENCH_ROUTES=on), for `make bench`: GET /bench/hello, the web tier's
 * ceiling, and GET /bench/roll-new-channel, /api/roll on a roller that opens a new channel (and TLS
 * handshake) per request as the original tutorial did.
 */
export default async function benchRoutes(app: FastifyInstance, { channelPerRequestDice }: { channelPerRequestDice: DiceRoller }) {
  const helloSchema = { type: 'object', properties: { hello: { type: 'string' } } } as const;
  app.get('/bench/hello', { schema: { response: { 200: helloSchema } } }, async () => ({ hello: 'world' }));
  app.get('/bench/roll-new-channel', { schema: { response: rollResponses } }, rollAsJson(channelPerRequestDice));
}
