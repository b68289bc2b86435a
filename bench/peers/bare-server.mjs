// make bench only: the least a grpc-js DiceService can be, for the "server implementations"
// scenario. RollDie and the health service, no interceptors, no logging, no metrics. Mounted into
// the server image next to its code (bench/compose.bench-bare.yml), so it finds its node_modules and api.proto.
import { randomInt } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';

const api = grpc.loadPackageDefinition(protoLoader.loadSync('/app/proto/api.proto', { defaults: true }));
const server = new grpc.Server();
server.addService(api.api.DiceService.service, {
  RollDie: (_call, callback) => callback(null, { value: randomInt(1, 7) }),
});
new HealthImplementation({ '': 'SERVING', 'api.DiceService': 'SERVING' }).addToServer(server);
server.bindAsync('0.0.0.0:50051', grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
