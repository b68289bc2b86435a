import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '@dice/common';
import { loadDiceApi, type DiceServiceClient } from '@dice/proto';

/** What the web app needs from the dice service. */
export interface DiceRoller {
  roll(): Promise<number>;
  close(): void;
}

/** A failed RollDie call, keeping the gRPC status so callers can answer with a meaningful code. */
export class DiceCallError extends Error {
  override name = 'DiceCallError';
  readonly code: grpc.status;
  constructor(code: grpc.status, details: string) {
    super(details);
    this.code = code;
  }
  get codeName(): string {
    return grpc.status[this.code] ?? String(this.code);
  }
}

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

const fileVariables: Record<keyof TlsFiles, string> = { ca: 'TLS_CA_FILE', cert: 'TLS_CERT_FILE', key: 'TLS_KEY_FILE' };

/** Reads the CA, client certificate and key into mTLS channel credentials. */
export function loadClientCredentials(files: TlsFiles): grpc.ChannelCredentials {
  const read = (which: keyof TlsFiles): Buffer => {
    try {
      return readFileSync(files[which]);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`${fileVariables[which]} points to ${files[which]}, which cannot be read (${reason})`);
    }
  };
  try {
    return grpc.credentials.createSsl(read('ca'), read('key'), read('cert'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE must be PEM files of a CA, a certificate and its key: ${(error as Error).message}`);
  }
}

export interface DiceClientOptions {
  target: string;
  credentials: grpc.ChannelCredentials;
  deadlineMs: number;
  tlsServerName?: string | undefined;
}

/**
 * One channel for the life of the app: every request reuses its HTTP/2 connection and TLS session
 * instead of paying a handshake per request. The channel reconnects by itself after failures.
 */
export function createDiceClient({ target, credentials, deadlineMs, tlsServerName }: DiceClientOptions): DiceRoller {
  const options: grpc.ChannelOptions = tlsServerName ? { 'grpc.ssl_target_name_override': tlsServerName } : {};
  const client: DiceServiceClient = new (loadDiceApi().api.DiceService)(target, credentials, options);
  // Start connecting now, so the first page view does not wait for the TLS handshake.
  client.getChannel().getConnectivityState(true);
  return {
    roll() {
      return new Promise((resolve, reject) => {
        client.RollDie({}, { deadline: Date.now() + deadlineMs }, (error, response) => {
          if (error) reject(new DiceCallError(error.code, error.details));
          else if (!response || response.value < 1 || response.value > 6) reject(new DiceCallError(grpc.status.INTERNAL, `the dice service answered an impossible roll (${response?.value})`));
          else resolve(response.value);
        });
      });
    },
    close() {
      client.close();
    },
  };
}
