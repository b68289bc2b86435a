import { ServerInterceptingCall, status as grpcStatus, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CallerIdentity, IdentityResult } from '../caller-identity.ts';
import { healthServicePrefix, metadataKeys, statusName } from '@dice/proto';

/**
 * Writes one structured log line per RPC when its status is sent: request id, authority, peer, the calling
 * client (certificate CN, subject and SHA-256 as nginx verified them), method, gRPC status,
 * duration and user-agent. Failed calls log at warn so they stand out; passing health checks at debug.
 */
export function createRpcLogInterceptor(logger: Logger, readIdentity: (metadata: Metadata) => IdentityResult): ServerInterceptor {
  return (methodDescriptor, call) => {
    const startedAt = process.hrtime.bigint();
    let userAgent: string | undefined;
    let client: CallerIdentity | undefined;
    let requestId: string | undefined;
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const value = metadata.get('user-agent')[0];
            userAgent = typeof value === 'string' ? value : undefined;
            client = readIdentity(metadata).identity;
            const id = metadata.get(metadataKeys.requestId)[0];
            // Set by the web app (or any client) and passed on by nginx; bounded so a client cannot flood the log.
            requestId = typeof id === 'string' ? id.slice(0, 128) : undefined;
            nextMetadata(metadata);
          },
        });
      },
      sendStatus(status, next) {
        const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
        const line = {
          method: methodDescriptor.path,
          requestId,
          authority: call.getHost(),
          peer: call.getPeer(),
          client,
          code: statusName(status.code),
          durationMs: Math.round(durationMs * 1000) / 1000,
          userAgent,
        };
        if (status.code !== grpcStatus.OK) logger.warn({ ...line, details: status.details }, 'rpc');
        // Container healthchecks call every few seconds; a passing check is not news.
        else if (methodDescriptor.path.startsWith(healthServicePrefix)) logger.debug(line, 'rpc');
        else logger.info(line, 'rpc');
        next(status);
      },
    });
  };
}
