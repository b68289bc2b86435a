import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions } from './loader-options.ts';
import type { ProtoGrpcType } from './generated/api.ts';

export { loaderOptions } from './loader-options.ts';
export { diceServiceConfig } from './client-service-config.ts';
export type { ProtoGrpcType } from './generated/api.ts';
export type { DiceServiceClient, DiceServiceHandlers } from './generated/api/DiceService.ts';
export type { RollDieRequest, RollDieRequest__Output } from './generated/api/RollDieRequest.ts';
export type { RollDieResponse, RollDieResponse__Output } from './generated/api/RollDieResponse.ts';

/** Absolute path of api.proto, next to this package's src/ and dist/ alike. */
export const protoPath = fileURLToPath(new URL('../api.proto', import.meta.url));

/** Full gRPC method path of RollDie, as clients of the original tutorial call it. */
export const rollDiePath = '/api.DiceService/RollDie';

/** Loads api.proto into typed grpc-js constructors and service definitions. */
export function loadDiceApi(): ProtoGrpcType {
  const definition = protoLoader.loadSync(protoPath, loaderOptions);
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
