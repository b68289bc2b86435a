// Streaming calls through the edge, read to their end: what arrived, the status, when, and from which replica.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { metadataKeys, statusName, type DiceServiceClient, type RollDiceRequest, type RollDieResponse__Output, type RollRequest, type RollResult__Output } from '@dice/proto';
import { edgeChannelOptions, edgeCredentials, type ClientIdentity } from './edge-client.ts';

export interface StreamEnd<T> {
  messages: T[];
  code: string;
  details: string;
  /** Milliseconds from the call's start to its status. */
  tookMs: number;
  /** The server replica that answered (x-dice-replica), when headers came. */
  replica: string | undefined;
}

function follow<T>(call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<RollRequest, T>, startedAt: number, onMessage?: (message: T) => void): { ended: Promise<StreamEnd<T>>; replica: Promise<string | undefined> } {
  let replicaKnown!: (replica: string | undefined) => void;
  const replica = new Promise<string | undefined>((resolve) => (replicaKnown = resolve));
  const ended = new Promise<StreamEnd<T>>((resolve) => {
    const messages: T[] = [];
    let answeredBy: string | undefined;
    call.on('metadata', (metadata: grpc.Metadata) => {
      answeredBy = String(metadata.get(metadataKeys.replica)[0] ?? '') || undefined;
      replicaKnown(answeredBy);
    });
    call.on('data', (message: T) => {
      messages.push(message);
      onMessage?.(message);
    });
    // The status event carries every ending, errors included.
    call.on('error', () => {});
    call.on('status', ({ code, details }: grpc.StatusObject) => {
      replicaKnown(answeredBy);
      resolve({ messages, code: statusName(code), details, tookMs: Date.now() - startedAt, replica: answeredBy });
    });
  });
  return { ended, replica };
}

/** A RollDice stream; `replica` resolves when the response headers name the replica answering. */
export function rollDice(client: DiceServiceClient, request: RollDiceRequest, options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): { ended: Promise<StreamEnd<number>>; replica: Promise<string | undefined>; cancel(): void } {
  const call = client.RollDice(request, metadata, options);
  const { ended, replica } = follow<RollDieResponse__Output>(call, Date.now());
  return { ended: ended.then((end) => ({ ...end, messages: end.messages.map(({ value }) => value) })), replica, cancel: () => call.cancel() };
}

/** A RollOnDemand stream: writes the requests, half-closes unless `keepOpen`, and reads to the end. */
export function rollOnDemand(client: DiceServiceClient, requests: RollRequest[], { keepOpen = false } = {}): Promise<StreamEnd<RollResult__Output>> {
  const startedAt = Date.now();
  const call = client.RollOnDemand();
  const { ended } = follow<RollResult__Output>(call, startedAt);
  for (const request of requests) call.write(request);
  if (!keepOpen) call.end();
  return ended;
}

interface HealthWatchClient extends grpc.Client {
  Watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

/**
 * grpc.health.v1.Health/Watch through the edge, as a client's health checking holds it open:
 * `statuses` fills as messages arrive; `ended` resolves with the status if the stream ends.
 */
export function watchHealth(address: string, identity: ClientIdentity): { statuses: string[]; ended: Promise<StreamEnd<{ status: string }>>; replica: Promise<string | undefined>; cancel(): void } {
  const definition = protoLoader.loadSync(healthProtoPath, { enums: String });
  const Health = (grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => HealthWatchClient } } } }).grpc.health.v1.Health;
  const client = new Health(address, edgeCredentials(identity), edgeChannelOptions);
  const statuses: string[] = [];
  const call = client.Watch({ service: '' });
  const { ended, replica } = follow(call, Date.now(), ({ status }) => statuses.push(status));
  return { statuses, ended: ended.finally(() => client.close()), replica, cancel: () => call.cancel() };
}
