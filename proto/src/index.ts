import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions } from './loader-options.ts';
import type { ProtoGrpcType } from './generated/api.ts';

export { loaderOptions } from './loader-options.ts';
export { healthServicePrefix, metadataKeys, methodPaths, rollLimits, serviceNames, statusName } from './contract.ts';
export { diceServiceConfig } from './client-service-config.ts';
export type { ProtoGrpcType } from './generated/api.ts';
export type { DiceServiceClient, DiceServiceHandlers } from './generated/api/DiceService.ts';
export type { RollDieRequest, RollDieRequest__Output } from './generated/api/RollDieRequest.ts';
export type { RollDieResponse, RollDieResponse__Output } from './generated/api/RollDieResponse.ts';
export type { RollDiceRequest, RollDiceRequest__Output } from './generated/api/RollDiceRequest.ts';
export type { RollRequest, RollRequest__Output } from './generated/api/RollRequest.ts';
export type { RollResult, RollResult__Output } from './generated/api/RollResult.ts';

/** Absolute path of api.proto, next to this package's src/ and dist/ alike. */
export const protoPath = fileURLToPath(new URL('../api.proto', import.meta.url));

let loaded: ProtoGrpcType | undefined;

/** api.proto as typed grpc-js constructors and service definitions; parsed once per process. */
export function loadDiceApi(): ProtoGrpcType {
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, loaderOptions)) as unknown as ProtoGrpcType;
  return loaded;
}
