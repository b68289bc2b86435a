import { pino, type Logger } from 'pino';
import type { LogLevel } from './env.ts';

export interface ServiceLoggerOptions {
  /** Bytes gathered before a write; lines reach stdout in chunks of about this size. 0 writes each line at once. */
  chunkBytes?: number;
  /** The longest a line waits in the buffer when the service is quiet. */
  flushIntervalMs?: number;
}

/**
 * The service's JSON logger on stdout, written asynchronously in chunks: a line costs an append to
 * a buffer instead of a write() of its own (each of which the container runtime's log pipe then
 * handles). Nothing is lost on a normal exit: pino's destination writes what is buffered when the
 * process exits (process.exit included); a quiet service's lines are written within flushIntervalMs.
 */
export function createServiceLogger(service: string, level: LogLevel, { chunkBytes = 4096, flushIntervalMs = 1000 }: ServiceLoggerOptions = {}): Logger {
  if (chunkBytes === 0) return pino({ level, base: { service } }, pino.destination({ dest: 1, sync: true }));
  const destination = pino.destination({ dest: 1, sync: false, minLength: chunkBytes });
  const flusher = setInterval(() => destination.flush(), flushIntervalMs);
  flusher.unref();
  return pino({ level, base: { service } }, destination);
}
