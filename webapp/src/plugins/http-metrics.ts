import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { WebappMetrics } from '../metrics.ts';

/** Counts every response by route pattern (not URL, so unknown paths cannot blow up the label set). */
export default fastifyPlugin(async function httpMetrics(app: FastifyInstance, { metrics }: { metrics: WebappMetrics }) {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
});
