import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DiceServiceClient as _api_DiceServiceClient, DiceServiceDefinition as _api_DiceServiceDefinition } from './api/DiceService.ts';
import type { RollDiceRequest as _api_RollDiceRequest, RollDiceRequest__Output as _api_RollDiceRequest__Output } from './api/RollDiceRequest.ts';
import type { RollDieRequest as _api_RollDieRequest, RollDieRequest__Output as _api_RollDieRequest__Output } from './api/RollDieRequest.ts';
import type { RollDieResponse as _api_RollDieResponse, RollDieResponse__Output as _api_RollDieResponse__Output } from './api/RollDieResponse.ts';
import type { RollRequest as _api_RollRequest, RollRequest__Output as _api_RollRequest__Output } from './api/RollRequest.ts';
import type { RollResult as _api_RollResult, RollResult__Output as _api_RollResult__Output } from './api/RollResult.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  api: {
    DiceService: SubtypeConstructor<typeof grpc.Client, _api_DiceServiceClient> & { service: _api_DiceServiceDefinition }
    RollDiceRequest: MessageTypeDefinition<_api_RollDiceRequest, _api_RollDiceRequest__Output>
    RollDieRequest: MessageTypeDefinition<_api_RollDieRequest, _api_RollDieRequest__Output>
    RollDieResponse: MessageTypeDefinition<_api_RollDieResponse, _api_RollDieResponse__Output>
    RollRequest: MessageTypeDefinition<_api_RollRequest, _api_RollRequest__Output>
    RollResult: MessageTypeDefinition<_api_RollResult, _api_RollResult__Output>
  }
}

