import { status, type StatusObject } from '@grpc/grpc-js';
import { healthServicePrefix } from '@dice/proto';
import type { AccessPolicy } from './access-policy.ts';
import type { IdentityResult } from './caller-identity.ts';

/**
 * Why a call is refused, or undefined when it may go on: UNAUTHENTICATED when it did not come
 * through the edge with a verified client certificate, PERMISSION_DENIED when the access policy
 * does not allow this client this method.
 */
export function callerRefusal(method: string, caller: IdentityResult, policy: AccessPolicy | undefined): Pick<StatusObject, 'code' | 'details'> | undefined {
  // The container healthcheck calls from inside the server's container, without a client
  // certificate; health reveals only serving / not serving.
  if (method.startsWith(healthServicePrefix)) return undefined;
  if (caller.problem !== undefined) return { code: status.UNAUTHENTICATED, details: `${caller.problem}: call through the TLS edge (nginx) with a client certificate` };
  if (policy && !policy(method, caller.identity.commonName)) {
    return { code: status.PERMISSION_DENIED, details: `client "${caller.identity.commonName}" may not call ${method}: ask for it to be added to ACCESS_POLICY` };
  }
  return undefined;
}
