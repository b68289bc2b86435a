// Original file: api.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RollDiceRequest as _api_RollDiceRequest, RollDiceRequest__Output as _api_RollDiceRequest__Output } from '../api/RollDiceRequest.ts';
import type { RollDieRequest as _api_RollDieRequest, RollDieRequest__Output as _api_RollDieRequest__Output } from '../api/RollDieRequest.ts';
import type { RollDieResponse as _api_RollDieResponse, RollDieResponse__Output as _api_RollDieResponse__Output } from '../api/RollDieResponse.ts';
import type { RollRequest as _api_RollRequest, RollRequest__Output as _api_RollRequest__Output } from '../api/RollRequest.ts';
import type { RollResult as _api_RollResult, RollResult__Output as _api_RollResult__Output } from '../api/RollResult.ts';

export interface DiceServiceClient extends grpc.Client {
  RollDice(argument: _api_RollDiceRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_api_RollDieResponse__Output>;
  RollDice(argument: _api_RollDiceRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_api_RollDieResponse__Output>;
  rollDice(argument: _api_RollDiceRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_api_RollDieResponse__Output>;
  rollDice(argument: _api_RollDiceRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_api_RollDieResponse__Output>;
  
  RollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  RollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  RollDie(argument: _api_RollDieRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  RollDie(argument: _api_RollDieRequest, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  
  RollOnDemand(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_api_RollRequest, _api_RollResult__Output>;
  RollOnDemand(options?: grpc.CallOptions): grpc.ClientDuplexStream<_api_RollRequest, _api_RollResult__Output>;
  rollOnDemand(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_api_RollRequest, _api_RollResult__Output>;
  rollOnDemand(options?: grpc.CallOptions): grpc.ClientDuplexStream<_api_RollRequest, _api_RollResult__Output>;
  
}

export interface DiceServiceHandlers extends grpc.UntypedServiceImplementation {
  RollDice: grpc.handleServerStreamingCall<_api_RollDiceRequest__Output, _api_RollDieResponse>;
  
  RollDie: grpc.handleUnaryCall<_api_RollDieRequest__Output, _api_RollDieResponse>;
  
  RollOnDemand: grpc.handleBidiStreamingCall<_api_RollRequest__Output, _api_RollResult>;
  
}

export interface DiceServiceDefinition extends grpc.ServiceDefinition {
  RollDice: MethodDefinition<_api_RollDiceRequest, _api_RollDieResponse, _api_RollDiceRequest__Output, _api_RollDieResponse__Output>
  RollDie: MethodDefinition<_api_RollDieRequest, _api_RollDieResponse, _api_RollDieRequest__Output, _api_RollDieResponse__Output>
  RollOnDemand: MethodDefinition<_api_RollRequest, _api_RollResult, _api_RollRequest__Output, _api_RollResult__Output>
}
