import type { FastifyInstance } from 'fastify';
import type { DiceRoller } from '../dice-channel.ts';
import { dieFace } from '../die-faces.ts';
import { htmlSecurityHeaders } from '../http-answers.ts';

/** GET /: the page with a rolled die. A failed roll renders views/unavailable.eta (app.ts's error handler). */
export default async function pageRoutes(app: FastifyInstance, { dice }: { dice: DiceRoller }) {
  app.get('/', { config: { page: true } }, async (request, reply) => {
    reply.headers({ ...htmlSecurityHeaders, 'cache-control': 'no-store' });
    const { value, replica } = await dice.roll({ requestId: request.id });
    return reply.viewAsync('index.eta', { value, face: dieFace(value), replica });
  });
}
