import { Metadata, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';

/**
 * Adds the replica name to every response, so a client (and the web page) can see which of several
 * server replicas behind nginx answered, without a field in the wire contract.
 */
export function createReplicaInterceptor(replica: string): ServerInterceptor {
  return (_methodDescriptor, call) => {
    let headersSent = false;
    return new ServerInterceptingCall(call, {
      sendMetadata(metadata, next) {
        headersSent = true;
        metadata.set(metadataKeys.replica, replica);
        next(metadata);
      },
      sendStatus(status, next) {
        // A failure before any response has no headers (Trailers-Only): name the replica in the trailers.
        if (headersSent) return next(status);
        const metadata = status.metadata ?? new Metadata();
        metadata.set(metadataKeys.replica, replica);
        next({ ...status, metadata });
      },
    });
  };
}
