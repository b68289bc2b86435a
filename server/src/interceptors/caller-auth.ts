import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import type { AccessPolicy } from '../access-policy.ts';
import type { IdentityResult } from '../caller-identity.ts';
import { healthServicePrefix } from '@dice/proto';

/**
 * Refuses calls that did not come through the edge with a verified client certificate
 * (UNAUTHENTICATED), and calls the access policy does not allow for that client (PERMISSION_DENIED).
 */
export function createCallerAuthInterceptor(readIdentity: (metadata: Metadata) => IdentityResult, policy: AccessPolicy | undefined): ServerInterceptor {
  return (methodDescriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            // The container healthcheck calls from inside the server's container, without a client
            // certificate; health reveals only serving / not serving.
            if (methodDescriptor.path.startsWith(healthServicePrefix)) return nextMetadata(metadata);
            const { identity, problem } = readIdentity(metadata);
            if (problem !== undefined) {
              call.sendStatus({ code: status.UNAUTHENTICATED, details: `${problem}: call through the TLS edge (nginx) with a client certificate` });
            } else if (policy && !policy(methodDescriptor.path, identity.commonName)) {
              call.sendStatus({ code: status.PERMISSION_DENIED, details: `client "${identity.commonName}" may not call ${methodDescriptor.path}: ask for it to be added to ACCESS_POLICY` });
            } else {
              nextMetadata(metadata);
            }
          },
        });
      },
    });
}
