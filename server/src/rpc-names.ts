import { status as grpcStatus } from '@grpc/grpc-js';

/** Method paths of the standard health service: polled by healthchecks, exempt from identity. */
export const healthServicePrefix = '/grpc.health.v1.Health/';

/** The gRPC status name for a code ("OK", "UNAVAILABLE"), or the number for an unknown code. */
export function statusName(code: number): string {
  return grpcStatus[code] ?? String(code);
}
