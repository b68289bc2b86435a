import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { diceServiceConfig, loadDiceApi, type DiceServiceClient } from '@dice/proto';

export interface ClientIdentity {
  ca: string;
  cert?: string;
  key?: string;
}

/**
 * How the client retries: grpc-js's default (transparent retries only), 'policy' (the service config
 * docs/operations.md tells clients to use) or 'off' (none at all, so every failure is seen).
 */
export type RetryMode = 'default' | 'policy' | 'off';

/** TLS credentials for the edge: its CA, and the client certificate (or none). */
export function edgeCredentials(identity: ClientIdentity): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readFileSync(identity.ca), identity.key ? readFileSync(identity.key) : null, identity.cert ? readFileSync(identity.cert) : null);
}

/** The edge certificate names localhost; checking that name also keeps SNI off a bare IP address. */
export const edgeChannelOptions: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'localhost' };

/** A DiceService client for nginx's published port, presenting the given client certificate (or none). */
export function edgeClient(address: string, identity: ClientIdentity, { retries = 'default' as RetryMode } = {}): DiceServiceClient {
  return new (loadDiceApi().api.DiceService)(address, edgeCredentials(identity), {
    ...edgeChannelOptions,
    ...(retries === 'policy' ? { 'grpc.service_config': JSON.stringify(diceServiceConfig) } : {}),
    ...(retries === 'off' ? { 'grpc.enable_retries': 0 } : {}),
  });
}

/** One RollDie call; resolves with the value or rejects with the grpc-js ServiceError. */
export function rollDie(client: DiceServiceClient, deadlineMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    client.RollDie({}, { deadline: Date.now() + deadlineMs }, (error, response) => {
      if (error) reject(error);
      else if (!response) reject(new Error('empty response'));
      else resolve(response.value);
    });
  });
}
