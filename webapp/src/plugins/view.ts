import { fileURLToPath } from 'node:url';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';

/** Eta templates from views/, escaped by default, compiled once (production: true). */
export default fastifyPlugin(async function viewEngine(app: FastifyInstance) {
  await app.register(fastifyView, {
    engine: { eta: new Eta({ autoEscape: true }) },
    root: fileURLToPath(new URL('../../views/', import.meta.url)),
    layout: 'layout.eta',
    production: true,
  });
});
