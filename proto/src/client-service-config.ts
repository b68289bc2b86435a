import { serviceNames } from './contract.ts';

/**
 * The service config every DiceService client should use (grpc.service_config channel option):
 * calls are retried on UNAVAILABLE, the code for "never reached a server" (a replica shutting down,
 * nginx reloading, a connection closed by GOAWAY). Retrying is safe because rolling a die has no
 * side effect; the call's deadline still bounds the whole.
 */
export const diceServiceConfig = {
  methodConfig: [
    {
      name: [{ service: serviceNames.dice }],
      retryPolicy: { maxAttempts: 4, initialBackoff: '0.05s', maxBackoff: '0.5s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
    },
  ],
};
