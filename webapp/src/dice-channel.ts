import * as grpc from '@grpc/grpc-js';
import { diceServiceConfig, loadDiceApi, metadataKeys, methodPaths, statusName, type DiceServiceClient, type RollDieResponse__Output } from '@dice/proto';

/** A rolled die and the server replica that rolled it (from the x-dice-replica response header). */
export interface RollResult {
  value: number;
  replica?: string | undefined;
}

/** How many dice a RollDice stream rolls, and the pause between two. */
export interface RollDiceOptions {
  count: number;
  intervalMs: number;
  requestId?: string;
  /** Aborted: the call is cancelled (the web app is shutting down). */
  signal?: AbortSignal;
}

/** What the web app needs from the dice service. */
export interface DiceRoller {
  /** requestId travels as x-request-id metadata through nginx to the server's log. */
  roll(options?: { requestId?: string }): Promise<RollResult>;
  /**
   * Rolls `count` dice on one RollDice stream, yielding each as it lands; a failed stream throws a
   * DiceCallError. Stopping early (a browser gone) cancels the call.
   */
  rollDice(options: RollDiceOptions): AsyncIterable<RollResult>;
  close(): void;
}

/** A DiceRoller on one gRPC channel, which can also be retired gracefully. */
export interface DiceChannel extends DiceRoller {
  /** Takes no more calls and closes the channel once the calls in flight have ended. */
  drain(): Promise<void>;
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
    return statusName(this.code);
  }
}

export interface DiceClientOptions {
  target: string;
  credentials: grpc.ChannelCredentials;
  deadlineMs: number;
  tlsServerName?: string | undefined;
  /** Told how each call ended (method path, gRPC status name) and how long it took, retries included. */
  onCallEnd?: (method: string, code: string, seconds: number) => void;
}

/**
 * One channel for the life of the app: every request reuses its HTTP/2 connection and TLS session
 * instead of paying a handshake per request. The channel reconnects by itself after failures.
 */
export function createDiceChannel({ target, credentials, deadlineMs, tlsServerName, onCallEnd }: DiceClientOptions): DiceChannel {
  const options: grpc.ChannelOptions = {
    'grpc.service_config': JSON.stringify(diceServiceConfig),
    ...(tlsServerName ? { 'grpc.ssl_target_name_override': tlsServerName } : {}),
  };
  const client: DiceServiceClient = new (loadDiceApi().api.DiceService)(target, credentials, options);
  // Start connecting now, so the first page view does not wait for the TLS handshake.
  client.getChannel().getConnectivityState(true);
  let inFlight = 0;
  let idle: (() => void) | undefined;
  return {
    roll({ requestId } = {}) {
      const metadata = new grpc.Metadata();
      if (requestId) metadata.set(metadataKeys.requestId, requestId);
      inFlight++;
      return new Promise((resolve, reject) => {
        let replica: string | undefined;
        const startedAt = performance.now();
        const call = client.RollDie({}, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
          if (--inFlight === 0) idle?.();
          onCallEnd?.(methodPaths.rollDie, error ? statusName(error.code) : 'OK', (performance.now() - startedAt) / 1000);
          if (error) reject(new DiceCallError(error.code, error.details));
          else if (!response || response.value < 1 || response.value > 6) reject(new DiceCallError(grpc.status.INTERNAL, `the dice service answered an impossible roll (${response?.value})`));
          else resolve({ value: response.value, replica });
        });
        call.on('metadata', (headers: grpc.Metadata) => {
          const value = headers.get(metadataKeys.replica)[0];
          replica = typeof value === 'string' ? value : undefined;
        });
      });
    },
    async *rollDice({ count, intervalMs, requestId, signal }) {
      const metadata = new grpc.Metadata();
      if (requestId) metadata.set(metadataKeys.requestId, requestId);
      inFlight++;
      const startedAt = performance.now();
      // The stream's deadline: the usual one for the first roll, plus the pauses between the rolls.
      const call = client.RollDice({ count, intervalMs }, metadata, { deadline: Date.now() + deadlineMs + count * intervalMs });
      const cancel = (): void => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      let replica: string | undefined;
      call.on('metadata', (headers: grpc.Metadata) => {
        const value = headers.get(metadataKeys.replica)[0];
        replica = typeof value === 'string' ? value : undefined;
      });
      let code = 'CANCELLED';
      try {
        for await (const { value } of call as AsyncIterable<RollDieResponse__Output>) yield { value, replica };
        code = 'OK';
      } catch (error) {
        const { code: failed, details } = error as grpc.ServiceError;
        code = statusName(failed);
        throw new DiceCallError(failed, details);
      } finally {
        // Still CANCELLED here: the consumer stopped reading, so the server may stop rolling.
        if (code === 'CANCELLED') call.cancel();
        signal?.removeEventListener('abort', cancel);
        if (--inFlight === 0) idle?.();
        onCallEnd?.(methodPaths.rollDice, code, (performance.now() - startedAt) / 1000);
      }
    },
    close() {
      client.close();
    },
    async drain() {
      // Every call has a deadline, so this wait is bounded by deadlineMs.
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      client.close();
    },
  };
}

/**
 * The original tutorial's pattern, kept for `make bench` only: a new channel (new connection, full
 * TLS handshake) for every call, closed after it. What the shared channel saves is measured against it.
 */
export function createChannelPerCallRoller(open: () => DiceChannel): DiceRoller {
  return {
    async roll(options) {
      const channel = open();
      try {
        return await channel.roll(options);
      } finally {
        channel.close();
      }
    },
    async *rollDice(options) {
      const channel = open();
      try {
        yield* channel.rollDice(options);
      } finally {
        channel.close();
      }
    },
    close() {},
  };
}
