import type { FastifyInstance } from 'fastify';
import { rollLimits } from '@dice/proto';
import type { DiceRoller, RollResult } from '../dice-channel.ts';
import { dieFace } from '../die-faces.ts';
import { htmlSecurityHeaders, unavailableSentence } from '../http-answers.ts';
import { pageQuery } from '../schemas.ts';

/** The form's default number of dice. */
const defaultCount = 5;

/**
 * GET /: the page with a rolled die, and a form to roll N dice. The script on the page streams the N
 * dice in; without it, the form comes back here with ?count=N and the page shows all N at once. A
 * failed roll renders views/unavailable.eta (app.ts's error handler).
 */
export default async function pageRoutes(app: FastifyInstance, { dice }: { dice: DiceRoller }) {
  app.get<{ Querystring: { count?: number } }>('/', { config: { page: true }, schema: { querystring: pageQuery } }, async (request, reply) => {
    reply.headers({ ...htmlSecurityHeaders, 'cache-control': 'no-store' });
    const form = { limits: rollLimits.count, count: request.query.count ?? defaultCount, unavailable: unavailableSentence };
    const { count } = request.query;
    if (count === undefined) {
      const { value, replica } = await dice.roll({ requestId: request.id });
      return reply.viewAsync('index.eta', { ...form, value, face: dieFace(value), replica });
    }
    const rolls: (RollResult & { face: string })[] = [];
    for await (const roll of dice.rollDice({ count, intervalMs: 0, requestId: request.id })) rolls.push({ ...roll, face: dieFace(roll.value) });
    return reply.viewAsync('index.eta', { ...form, rolls, total: rolls.reduce((sum, { value }) => sum + value, 0) });
  });
}
