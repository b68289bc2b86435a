import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DiceRoller, RollResult } from '../dice-channel.ts';
import { rollResponses } from '../schemas.ts';

/** The roll as JSON: one handler for /api/roll and the bench route, each on its own roller. */
export function rollAsJson(dice: DiceRoller) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<RollResult> => {
    reply.header('cache-control', 'no-store');
    return dice.roll({ requestId: request.id });
  };
}

/** GET /api/roll: {"value": n, "replica": "..."}; a failed call leaves through app.ts's error handler. */
export default async function apiRoutes(app: FastifyInstance, { dice }: { dice: DiceRoller }) {
  app.get('/api/roll', { schema: { response: rollResponses } }, rollAsJson(dice));
}
