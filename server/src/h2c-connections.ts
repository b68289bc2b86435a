import { channel } from 'node:diagnostics_channel';
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import { createServer as createTcpServer } from 'node:net';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import type { Logger } from 'pino';

/**
 * The server's h2c connections from accept to close: the listening socket (the server owns it, so
 * it can stop accepting without grpc-js closing every session), each accepted connection handed to
 * grpc-js, and the drain, so that no connection is closed while its peer may still be finishing a
 * response. One module, because the drain needs the accepted sockets and the listener both.
 *
 * Why not grpc-js's tryShutdown alone: it closes every HTTP/2 session itself, with a GOAWAY and
 * then a FIN the moment the session's last call ends. nginx takes that FIN for a cut-off response
 * when it reads it together with the response while it still owes the server a control frame (the
 * SETTINGS ACK of a new upstream connection): "upstream prematurely closed connection", although
 * it holds the whole response with its OK trailers. The response headers have already gone to the
 * client, so nginx can only reset the client's stream, and the caller sees INTERNAL (RST_STREAM
 * code 2) for a call that succeeded. A busy nginx, which reads late, meets it often.
 *
 * So the drain stops accepting and sends each connection a GOAWAY without closing it: nginx
 * closes an idle connection as soon as it reads the GOAWAY, and a busy one after its call. After
 * a GOAWAY, Node's HTTP/2 stops reading a connection once it has no call (nghttp2 wants no more
 * frames), so the server cannot see when nginx is done with it; it waits until no call has run for
 * `lingerMs` (the time nginx gets to read a response it has been sent) before grpc-js closes what
 * is left.
 */
export interface H2cConnections {
  /** Listens on host:port (h2c) and hands each connection to grpc-js; resolves with the port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops accepting connections (the kernel refuses new ones, so nginx sends the call to another
   * replica) and sends every connection a GOAWAY naming the last call it took. Resolves once no
   * call has run for `lingerMs`, or at `deadline` (epoch ms).
   */
  drain(deadline: number): Promise<void>;
  /** Resolves with the number of connections still open once none is, or at `deadline` (epoch ms). */
  closed(deadline: number): Promise<number>;
  /** Stops following sessions (the server is gone). */
  stop(): void;
}

/** Published by Node for every stream a server session opens and closes (public, unlike the sessions). */
const streamCreated = channel('http2.server.stream.created');
const streamClosed = channel('http2.server.stream.close');

export function createH2cConnections(server: Server, logger: Logger, { lingerMs = 1000 } = {}): H2cConnections {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  // The accepted connections by peer address and port: a session's socket is a proxy, not the
  // accepted socket, so the two are matched by the peer.
  const sockets = new Set<string>();
  const sessions = new Set<Http2Session>();
  const streams = new WeakSet<ServerHttp2Stream>();
  let draining = false;
  let openStreams = 0;
  let lastCallEndedAt = 0;
  let changed: (() => void) | undefined;

  const peer = (socket: { remoteAddress?: string | undefined; remotePort?: number | undefined } | undefined): string => `${socket?.remoteAddress}:${socket?.remotePort}`;
  const goAway = (session: Http2Session): void => {
    // No lastStreamID: Node names the last stream the session processed, so a call that crossed
    // the GOAWAY is refused unprocessed (nginx answers it UNAVAILABLE, and clients retry that).
    if (!session.closed && !session.destroyed) session.goaway();
  };
  // Whether a session is on one of this server's connections, decided at its first stream.
  const ours = new WeakMap<Http2Session, boolean>();
  const onStreamCreated = (message: unknown): void => {
    const { stream } = message as { stream: ServerHttp2Stream };
    const session = stream.session;
    if (!session) return;
    let isOurs = ours.get(session);
    if (isOurs === undefined) {
      isOurs = sockets.has(peer(session.socket));
      ours.set(session, isOurs);
      if (isOurs) {
        sessions.add(session);
        session.once('close', () => sessions.delete(session));
        if (draining) goAway(session);
      }
    }
    if (!isOurs) return;
    streams.add(stream);
    openStreams++;
  };
  const onStreamClosed = (message: unknown): void => {
    if (!streams.has((message as { stream: ServerHttp2Stream }).stream)) return;
    openStreams--;
    lastCallEndedAt = Date.now();
    changed?.();
  };
  streamCreated.subscribe(onStreamCreated);
  streamClosed.subscribe(onStreamClosed);

  const listener = createTcpServer({ noDelay: true }, (socket) => {
    const key = peer(socket);
    sockets.add(key);
    socket.once('close', () => {
      sockets.delete(key);
      changed?.();
    });
    injector.injectConnection(socket);
  });

  /** Resolves when `done()` holds (checked whenever a call or connection ends, and at `recheckAt()`), or at `deadline`. */
  const until = (deadline: number, done: () => boolean, recheckAt = (): number => deadline): Promise<void> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        clearTimeout(timer);
        if (done() || Date.now() >= deadline) {
          changed = undefined;
          resolve();
          return;
        }
        timer = setTimeout(check, Math.max(0, Math.min(deadline, recheckAt()) - Date.now()));
      };
      changed = check;
      check();
    });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const refused = (error: Error): void => reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`));
        listener.once('error', refused);
        listener.listen({ host, port }, () => {
          listener.off('error', refused);
          // A failed accept (out of file descriptors) costs that connection, not the server.
          listener.on('error', (error) => logger.error({ err: error }, 'could not accept a connection'));
          const address = listener.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      });
    },
    drain(deadline) {
      draining = true;
      if (listener.listening) listener.close();
      for (const session of sessions) goAway(session);
      return until(
        deadline,
        () => openStreams === 0 && Date.now() - lastCallEndedAt >= lingerMs,
        // While a call runs, its end is the next moment to look (`changed`); then the linger's end.
        () => (openStreams > 0 ? deadline : lastCallEndedAt + lingerMs),
      );
    },
    async closed(deadline) {
      await until(deadline, () => sockets.size === 0);
      return sockets.size;
    },
    stop() {
      streamCreated.unsubscribe(onStreamCreated);
      streamClosed.unsubscribe(onStreamClosed);
      if (listener.listening) listener.close();
    },
  };
}
