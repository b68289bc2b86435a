// A grpc-js client of the second backend, echo.v1.Echo (backends/go/echo.proto), through the edge:
// loaded from the proto at run time, as a user of that service would, with the calls the suite needs
// written as promises.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { edgeChannelOptions, edgeCredentials, type ClientIdentity } from './edge-client.ts';
import { repoRoot } from './stack.ts';

export interface EchoRequest {
  payload?: Buffer;
  replies?: number;
  delayMs?: number;
  failCode?: number;
  failMessage?: string;
}

export interface EchoReply {
  payload: Buffer;
  sequence: number;
  receivedBytes: number;
}

type Callback = (error: grpc.ServiceError | null, reply?: EchoReply) => void;
export interface EchoClient extends grpc.Client {
  Unary(request: EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback): grpc.ClientUnaryCall;
  ServerStream(request: EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientReadableStream<EchoReply>;
  ClientStream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback): grpc.ClientWritableStream<EchoRequest>;
  Bidi(metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

const protoFile = join(repoRoot, 'backends/go/echo.proto');
// Numbers as numbers (received_bytes is a uint64 the tests keep far below 2^53).
const definition = loadSync(protoFile, { longs: Number, defaults: true });
const Echo = (grpc.loadPackageDefinition(definition) as unknown as { echo: { v1: { Echo: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient } } }).echo.v1.Echo;

/** An echo.v1.Echo client for the edge's published port, with the given client certificate. */
export function echoClient(address: string, identity: Required<ClientIdentity>, options: grpc.ChannelOptions = {}): EchoClient {
  return new Echo(address, edgeCredentials(identity), { ...edgeChannelOptions, 'grpc.max_receive_message_length': 8 * 1024 * 1024, ...options });
}

export interface Outcome<T> {
  /** The gRPC status code name's number (0 for OK). */
  code: number;
  details: string;
  value?: T;
  /** The response headers and the trailers, as the client received them. */
  headers?: grpc.Metadata;
  trailers?: grpc.Metadata;
}

/** A unary call; resolves with how it ended (never rejects). */
export function unary(client: EchoClient, request: EchoRequest, { metadata = new grpc.Metadata(), deadlineMs = 10_000 } = {}): Promise<Outcome<EchoReply>> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let answered: { error: grpc.ServiceError | null; reply?: EchoReply } | undefined;
    let ended: grpc.StatusObject | undefined;
    // Done once both the callback (the reply) and 'status' (the trailers) have come, in either order.
    const settle = (): void => {
      if (answered && ended) resolve({ code: ended.code, details: ended.details, value: answered.reply, headers, trailers: ended.metadata });
    };
    const call = client.Unary(request, metadata, { deadline: Date.now() + deadlineMs }, (error, reply) => {
      answered = { error, reply };
      settle();
    });
    call.on('metadata', (received: grpc.Metadata) => (headers = received));
    call.on('status', (status: grpc.StatusObject) => {
      ended = status;
      settle();
    });
  });
}

/** Reads a stream to its end; resolves with every reply and how it ended. */
export function readAll(call: grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<EchoRequest, EchoReply>): Promise<Outcome<EchoReply[]>> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    let headers: grpc.Metadata | undefined;
    call.on('metadata', (received: grpc.Metadata) => (headers = received));
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details, value: replies, headers, trailers: status.metadata }));
  });
}

/** google.rpc.Status and the one detail type the backend sends, to read grpc-status-details-bin (fields camelCased by protobufjs). */
const statusTypes = protobuf.parse(`syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
`).root;

export interface StatusDetails {
  code: number;
  message: string;
  details: { typeUrl: string; errorInfo?: { reason: string; domain: string; metadata: Record<string, string> } }[];
}

/** The grpc-status-details-bin trailer, decoded; undefined when there is none. */
export function statusDetails(trailers: grpc.Metadata | undefined): StatusDetails | undefined {
  const [encoded] = trailers?.get('grpc-status-details-bin') ?? [];
  if (!Buffer.isBuffer(encoded)) return undefined;
  const statusType = statusTypes.lookupType('google.rpc.Status');
  const status = statusType.toObject(statusType.decode(encoded), { defaults: true }) as { code: number; message: string; details: { typeUrl: string; value: Uint8Array }[] };
  const errorInfo = statusTypes.lookupType('google.rpc.ErrorInfo');
  return {
    code: status.code,
    message: status.message,
    details: status.details.map((detail) => ({
      typeUrl: detail.typeUrl,
      ...(detail.typeUrl === 'type.googleapis.com/google.rpc.ErrorInfo' ? { errorInfo: errorInfo.toObject(errorInfo.decode(detail.value), { defaults: true }) as { reason: string; domain: string; metadata: Record<string, string> } } : {}),
    })),
  };
}
