import type { FastifyInstance } from 'fastify';
import type { DiceRoller } from '../dice-channel.ts';
import { rollResponses } from '../schemas.ts';

/** The roll as JSON: one handler for /api/roll and the bench route, each on its own roller. */
export function rollAsJson(dice: DiceRoller) {
  return async (request: { id: string }, reply: { header(name: string, value: string): unknown }) => {
    reply.header('cache-control', 'no-store');
    return dice.roll({ requestId: request.id });
  };
}

/** GET /api/roll: {"value": n, "replica": "..."}. */
export default async function apiRoutes(app: FastifyInstance, { dice }: { dice: DiceRoller }) {
  app.get('/api/roll', { schema: { response: rollResponses } }, rollAsJson(dice));
}
