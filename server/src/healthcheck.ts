// Container healthcheck: asks this container's server for its grpc.health.v1 status and exits 0
// only when it answers SERVING.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { loadServerConfig } from './config.ts';

interface HealthClient extends grpc.Client {
  Check(request: { service: string }, options: grpc.CallOptions, callback: grpc.requestCallback<{ status: string }>): grpc.ClientUnaryCall;
}
type HealthClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

const { port } = loadServerConfig();
const definition = protoLoader.loadSync(healthProtoPath, { enums: String });
const healthPackage = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthClientConstructor } } } };
const client = new healthPackage.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
client.Check({ service: '' }, { deadline: Date.now() + 2000 }, (error, response) => {
  client.close();
  const state = error ? `error: ${error.message}` : response?.status;
  if (state !== 'SERVING') process.stderr.write(`server not healthy (${state})\n`);
  process.exit(state === 'SERVING' ? 0 : 1);
});
