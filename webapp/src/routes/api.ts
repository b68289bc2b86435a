import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DiceRoller, RollResult } from '../dice-channel.ts';
import { rollDiceQuery, rollResponses } from '../schemas.ts';
import { rollEvents } from '../server-sent-events.ts';

/** The roll as JSON: one handler for /api/roll and the bench route, each on its own roller. */
export function rollAsJson(dice: DiceRoller) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<RollResult> => {
    reply.header('cache-control', 'no-store');
    return dice.roll({ requestId: request.id });
  };
}

/**
 * GET /api/roll: {"value": n, "replica": "..."}. GET /api/roll-dice?count=N: the dice as Server-Sent
 * Events, each as the server rolls it. A call that fails before the first die leaves through
 * app.ts's error handler (503 or 502, as /api/roll); one that fails later ends the event stream
 * with a `failure` event.
 */
export default async function apiRoutes(app: FastifyInstance, { dice, shutdown }: { dice: DiceRoller; shutdown: AbortSignal }) {
  app.get('/api/roll', { schema: { response: rollResponses } }, rollAsJson(dice));

  app.get<{ Querystring: { count: number; interval_ms: number } }>('/api/roll-dice', { schema: { querystring: rollDiceQuery } }, async (request, reply) => {
    const { count, interval_ms: intervalMs } = request.query;
    const rolls = dice.rollDice({ count, intervalMs, requestId: request.id, signal: shutdown })[Symbol.asyncIterator]();
    // Wait for the first die, so a service that is down is answered with a status code, not a stream.
    const first = await rolls.next();
    reply.headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const events = rollEvents(first, rolls, (error, rolled) => request.log.warn({ grpcCode: error.codeName, details: error.message, rolled }, 'RollDice failed part-way'), shutdown);
    return reply.send(Readable.from(events));
  });
}
