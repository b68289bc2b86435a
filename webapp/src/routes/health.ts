import type { FastifyInstance } from 'fastify';
import { healthSchema } from '../schemas.ts';

/** GET /healthz: the process answers; it does not call the dice service (a blip there is not ours). */
export default async function healthRoutes(app: FastifyInstance) {
  // Polled by the container healthcheck and the kubelet every few seconds: keep it out of the info log.
  app.get('/healthz', { logLevel: 'warn', schema: { response: { 200: healthSchema } } }, async () => ({ status: 'ok' as const }));
}
