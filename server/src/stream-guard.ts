import { status, type StatusObject } from '@grpc/grpc-js';

/** A stream-ending status: a code the client's policy can act on and a sentence saying what to do. */
export type EndStatus = Pick<StatusObject, 'code' | 'details'>;

export interface StreamGuardOptions {
  /**
   * A stream with no message either way for this long is ended with DEADLINE_EXCEEDED. Kept below
   * the edge's stream timeout (EDGE_STREAM_IDLE_TIMEOUT), so the server ends a quiet stream with a
   * status before nginx would cut it: once a response has begun, nginx can only reset the stream,
   * and the client would hear a bare RST_STREAM (INTERNAL) with no reason.
   */
  idleMs: number;
  /**
   * A stream open this long is ended with UNAVAILABLE (open a new one). Equal to the connection's
   * max age, so a stream always ends with a status before grpc-js force-closes its connection at
   * max age + grace.
   */
  maxAgeMs: number;
}

/** One open stream as the guard sees it: a message passed (touch), or the stream ended (close). */
export interface TrackedStream {
  touch(): void;
  close(): void;
}

export interface StreamGuard {
  /** Starts watching a streaming call; `end` ends it with a status (through the call's interceptor). */
  track(path: string, end: (status: EndStatus) => void): TrackedStream;
  /** Ends the open streams whose method path `which` selects (all by default); returns how many. */
  endStreams(end: EndStatus, which?: (path: string) => boolean): number;
  /** Stops the idle and age checks (the server is gone). */
  stop(): void;
}

interface OpenStream {
  path: string;
  openedAt: number;
  lastMessageAt: number;
  end(end: EndStatus): void;
}

/**
 * Keeps every streaming call (client, server or both directions) from ending without a status: a
 * stream quiet for idleMs, or open for maxAgeMs, is ended by the server with a status and a
 * sentence, and endStreams() ends them at shutdown.
 */
export function createStreamGuard({ idleMs, maxAgeMs }: StreamGuardOptions): StreamGuard {
  const open = new Set<OpenStream>();

  const check = (): void => {
    const now = Date.now();
    for (const stream of open) {
      if (now - stream.lastMessageAt >= idleMs) {
        stream.end({
          code: status.DEADLINE_EXCEEDED,
          details: `stream idle: no message either way for ${idleMs} ms (the server's STREAM_IDLE_TIMEOUT_MS); send messages more often, or open a new stream when there is something to send`,
        });
      } else if (now - stream.openedAt >= maxAgeMs) {
        stream.end({ code: status.UNAVAILABLE, details: `stream open for ${maxAgeMs} ms, the longest a stream may last (the server's MAX_CONNECTION_AGE_MS): open a new one` });
      }
    }
  };
  // A check every quarter of the idle time, at most every second: a quiet stream ends at most a
  // quarter of the idle time (or a second) after it went idle.
  const timer = setInterval(check, Math.max(50, Math.min(1000, Math.floor(idleMs / 4))));
  timer.unref();

  return {
    track(path, end) {
      const openedAt = Date.now();
      const stream: OpenStream = {
        path,
        openedAt,
        lastMessageAt: openedAt,
        end: (status) => {
          if (!open.delete(stream)) return;
          end(status);
        },
      };
      open.add(stream);
      return {
        touch: () => void (stream.lastMessageAt = Date.now()),
        close: () => void open.delete(stream),
      };
    },
    endStreams(end, which = () => true) {
      const chosen = [...open].filter((stream) => which(stream.path));
      for (const stream of chosen) stream.end(end);
      return chosen.length;
    },
    stop: () => clearInterval(timer),
  };
}
