import type { FastifyInstance } from 'fastify';
import { healthSchema } from '../schemas.ts';

/**
 * GET /healthz: the process answers; it does not call the dice service (a blip there is not ours).
 * `degraded`, with the problems in words, while something will soon stop calls (a client certificate
 * about to expire unrenewed) but calls still work: still 200, so a cluster keeps the replica in
 * service; compose's health check reads the body and shows it.
 */
export default async function healthRoutes(app: FastifyInstance, options: { problems?: () => string[] }) {
  // Polled by the container healthcheck and the kubelet every few seconds: keep it out of the info log.
  app.get('/healthz', { logLevel: 'warn', schema: { response: { 200: healthSchema } } }, async () => {
    const problems = options.problems?.() ?? [];
    return problems.length === 0 ? { status: 'ok' as const } : { status: 'degraded' as const, problems };
  });
}
