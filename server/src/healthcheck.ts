// Container healthcheck: asks this container's server for its grpc.health.v1 status and exits 0
// only when it answers SERVING.
import { loadServerConfig } from './config.ts';
import { createHealthClient } from './health-client.ts';

const { port } = loadServerConfig();
const client = createHealthClient(`127.0.0.1:${port}`);
client.Check({ service: '' }, { deadline: Date.now() + 2000 }, (error, response) => {
  client.close();
  const state = error ? `error: ${error.message}` : response?.status;
  if (state !== 'SERVING') process.stderr.write(`server not healthy (${state})\n`);
  process.exit(state === 'SERVING' ? 0 : 1);
});
