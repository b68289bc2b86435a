import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** The grpc.health.v1 client, typed for the two calls this project makes. */
export interface HealthClient extends grpc.Client {
  Check(request: { service: string }, options: grpc.CallOptions, callback: grpc.requestCallback<{ status: string }>): grpc.ClientUnaryCall;
  Watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

type HealthPackage = { grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => HealthClient } } } };

/** A plaintext health client for a server at address (host:port). */
export function createHealthClient(address: string): HealthClient {
  const definition = protoLoader.loadSync(healthProtoPath, { enums: String });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as HealthPackage;
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
}
