import { constants as http2Constants, type Http2Session } from 'node:http2';
import { Server as NetServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/** The highest stream id: a GOAWAY with it says "no new streams" without refusing any already sent. */
const maxStreamId = 2 ** 31 - 1;

/**
 * grpc-js keeps its listeners and connections private; this reads the two fields (grpc-js 1.14:
 * `http2Servers`, `sessions`) and returns undefined when they are not there, so a grpc-js that
 * changed shape falls back to a plain tryShutdown instead of breaking (create-server.test.ts
 * checks the graceful path is taken).
 */
function internals(server: grpc.Server): { listeners: NetServer[]; sessions: Http2Session[] } | undefined {
  const fields = server as unknown as { http2Servers?: unknown; sessions?: unknown };
  if (!(fields.http2Servers instanceof Map) || !(fields.sessions instanceof Map)) return undefined;
  return {
    listeners: [...fields.http2Servers.keys()].filter((listener): listener is NetServer => listener instanceof NetServer),
    sessions: [...fields.sessions.keys()] as Http2Session[],
  };
}

/**
 * The first half of a graceful HTTP/2 shutdown, which grpc-js's tryShutdown skips (grpc-go's
 * GracefulStop does it): stop accepting connections, send every connection a GOAWAY with the
 * highest stream id, and wait for a PING round trip. A peer such as nginx then opens no new stream
 * on these connections, and every stream it sent before it read the GOAWAY has arrived and is being
 * served. Without it, tryShutdown's GOAWAY names the last stream the server has seen, and a call
 * nginx sent at that moment is refused (nginx: "upstream sent goaway", or a reset once the process
 * exits with it unread), which its client sees as UNAVAILABLE. Resolves within timeoutMs.
 * Returns false when grpc-js's internals were not found (then only tryShutdown runs).
 */
export async function announceGoaway(server: grpc.Server, timeoutMs: number): Promise<boolean> {
  const found = internals(server);
  if (!found) return false;
  // Stop listening, but leave the connections to the GOAWAY below: Http2Server.close() would
  // close every session at once, with the racy GOAWAY.
  for (const listener of found.listeners) if (listener.listening) NetServer.prototype.close.call(listener);
  await Promise.all(
    found.sessions.map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.closed || session.destroyed) return resolve();
          const timer = setTimeout(resolve, timeoutMs);
          const done = (): void => {
            clearTimeout(timer);
            resolve();
          };
          try {
            session.goaway(http2Constants.NGHTTP2_NO_ERROR, maxStreamId);
            // The peer answers the PING after it has read the GOAWAY; a peer that closes instead is done too.
            if (!session.ping(done)) done();
            session.once('close', done);
          } catch {
            done();
          }
        }),
    ),
  );
  return true;
}
