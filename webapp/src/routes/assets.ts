import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const script = readFileSync(new URL('../../public/roll-dice.js', import.meta.url));

/** GET /assets/roll-dice.js: the page's one script, read once at start-up. */
export default async function assetRoutes(app: FastifyInstance) {
  app.get('/assets/roll-dice.js', async (_request, reply) => {
    reply.headers({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' });
    return script;
  });
}
