// Original file: api.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RollDieRequest as _api_RollDieRequest, RollDieRequest__Output as _api_RollDieRequest__Output } from '../api/RollDieRequest.ts';
import type { RollDieResponse as _api_RollDieResponse, RollDieResponse__Output as _api_RollDieResponse__Output } from '../api/RollDieResponse.ts';

export interface DiceServiceClient extends grpc.Client {
  RollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  RollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  RollDie(argument: _api_RollDieRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  RollDie(argument: _api_RollDieRequest, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  rollDie(argument: _api_RollDieRequest, callback: grpc.requestCallback<_api_RollDieResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface DiceServiceHandlers extends grpc.UntypedServiceImplementation {
  RollDie: grpc.handleUnaryCall<_api_RollDieRequest__Output, _api_RollDieResponse>;
  
}

export interface DiceServiceDefinition extends grpc.ServiceDefinition {
  RollDie: MethodDefinition<_api_RollDieRequest, _api_RollDieResponse, _api_RollDieRequest__Output, _api_RollDieResponse__Output>
}
