import { Metadata, ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import type { AccessPolicy } from './access-policy.ts';
import type { CallRecord } from './call-record.ts';
import { callerRefusal } from './caller-auth.ts';
import type { IdentityResult } from './caller-identity.ts';
import type { StreamGuard, TrackedStream } from './stream-guard.ts';

/** A status as grpc-js's interceptors pass it (metadata optional). */
type PartialStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

export interface CallInterceptorParts {
  /** A record (log line and metrics) per call: call-record.ts. */
  record: (method: string, call: Parameters<ServerInterceptor>[1]) => CallRecord;
  readIdentity: (metadata: Metadata) => IdentityResult;
  accessPolicy: AccessPolicy | undefined;
  /** Named in every response's x-dice-replica metadata. */
  replica: string;
  streams: StreamGuard;
}

/**
 * The one interceptor every call passes (a layer of grpc-js interception per concern would cost a
 * wrapper and a listener chain per call each): reads the caller identity once, refuses a caller the
 * edge did not verify or the access policy leaves out, names the replica on every response (in the
 * trailers of a Trailers-Only failure), tracks streams for the stream guard, and records the call
 * once when it ends, however it ends: its own status, a refusal, the guard, a deadline or a reset.
 */
export function createCallInterceptor({ record, readIdentity, accessPolicy, replica, streams }: CallInterceptorParts): ServerInterceptor {
  return (methodDescriptor, call) => {
    const method = methodDescriptor.path;
    const calls = record(method, call);
    let headersSent = false;
    let stream: TrackedStream | undefined;

    const withReplica = (status: PartialStatus): PartialStatus => {
      if (headersSent) return status;
      const metadata = status.metadata ?? new Metadata();
      metadata.set(metadataKeys.replica, replica);
      return { ...status, metadata };
    };
    // A status this interceptor decides goes straight to the transport, recorded here.
    const end = ({ code, details }: Pick<StatusObject, 'code' | 'details'>): void => {
      calls.ended({ code, details });
      call.sendStatus(withReplica({ code, details }));
    };
    if (methodDescriptor.requestStream || methodDescriptor.responseStream) stream = streams.track(method, end);

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const caller = readIdentity(metadata);
            calls.started(metadata, caller);
            const refusal = callerRefusal(method, caller, accessPolicy);
            if (refusal) end(refusal);
            else nextMetadata(metadata);
          },
          onReceiveMessage(message, nextMessage) {
            calls.received();
            stream?.touch();
            nextMessage(message);
          },
          onCancel() {
            stream?.close();
            calls.cancelled(call.getDeadline());
          },
        });
      },
      sendMetadata(metadata, next) {
        headersSent = true;
        metadata.set(metadataKeys.replica, replica);
        next(metadata);
      },
      sendMessage(message, next) {
        calls.sent();
        stream?.touch();
        next(message);
      },
      sendStatus(status, next) {
        stream?.close();
        calls.ended(status);
        next(withReplica(status));
      },
    });
  };
}
