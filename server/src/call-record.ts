import { status as grpcStatus, type Deadline, type Metadata, type ServerInterceptingCallInterface, type StatusObject } from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { CallerIdentity, IdentityResult } from './caller-identity.ts';
import { healthServicePrefix, metadataKeys, statusName } from '@dice/proto';

/** One call's record, filled in as the call goes and written once when it ends. */
export interface CallRecord {
  /** The request metadata arrived, with the caller identity read from it. */
  started(metadata: Metadata, caller: IdentityResult): void;
  received(): void;
  sent(): void;
  /** The call ended with this status (the first ending counts). */
  ended(end: Pick<StatusObject, 'code' | 'details'>): void;
  /** The call ended without a status passing the interceptor: its deadline passed, or it was reset. */
  cancelled(deadline: Deadline): void;
}

/** How early a reset may arrive and still be the caller's deadline passing (its trip through nginx). */
const deadlineResetSlackMs = 50;

/** W3C trace context (traceparent, tracestate) from gRPC metadata, as nginx passed it on. */
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const value = metadata.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The codes that mark a span as failed: the semantic conventions' server errors, and the refusals,
 * cancels and limits a person looks for in a trace. Answers about the request's data (NOT_FOUND,
 * ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE) leave it unset.
 */
const failedCodes = new Set([grpcStatus.UNKNOWN, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.UNIMPLEMENTED, grpcStatus.INTERNAL, grpcStatus.UNAVAILABLE, grpcStatus.DATA_LOSS, grpcStatus.UNAUTHENTICATED, grpcStatus.PERMISSION_DENIED, grpcStatus.CANCELLED, grpcStatus.RESOURCE_EXHAUSTED, grpcStatus.INVALID_ARGUMENT]);

export interface CallRecorderOptions {
  /** With tracing on (main.ts), a server span per RPC, child of the caller's (traceparent). */
  tracer?: Tracer | undefined;
  /** The replica's name, an attribute of every span. */
  replica?: string;
}

/**
 * Records every RPC once, when it ends: a count and a duration in the metrics (by method and gRPC
 * status), and one structured log line with the request id, authority, peer, the calling client
 * (certificate CN, subject and SHA-256 as nginx verified them), method, status, duration, messages
 * each way and user-agent. A call that ends without a status (the caller's deadline, which grpc-js
 * enforces below the interceptors, or a reset) is recorded as DEADLINE_EXCEEDED or CANCELLED.
 * Failed calls log at warn; passing health checks and health watchers hanging up at debug.
 */
export function createCallRecorder(logger: Logger, registry: Registry, { tracer, replica }: CallRecorderOptions = {}): (method: string, call: ServerInterceptingCallInterface) => CallRecord {
  const calls = new Counter({ name: 'dice_server_rpcs_total', help: 'RPCs handled, by method and gRPC status code', labelNames: ['method', 'code'], registers: [registry] });
  const duration = new Histogram({
    name: 'dice_server_rpc_duration_seconds',
    help: 'Time from receiving an RPC to sending its status, by method and gRPC status code',
    labelNames: ['method', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  return (method, call) => {
    const startedAt = process.hrtime.bigint();
    const startedAtMs = Date.now();
    let userAgent: string | undefined;
    let client: CallerIdentity | undefined;
    let requestId: string | undefined;
    let messagesReceived = 0;
    let messagesSent = 0;
    let recorded = false;
    let span: Span | undefined;
    let spanDecided = false;
    const [, service = '', rpcMethod = ''] = method.split('/');
    // One span per RPC, a stream included, ended however the call ends. Without a tracer, nothing;
    // a span the sampler left out is dropped at once, its attributes never built (make bench, 12).
    const startSpan = (metadata?: Metadata): Span | undefined => {
      if (!tracer) return undefined;
      const started = tracer.startSpan(method.slice(1), { kind: SpanKind.SERVER, startTime: startedAtMs }, metadata ? propagation.extract(ROOT_CONTEXT, metadata, metadataGetter) : ROOT_CONTEXT);
      if (!started.isRecording()) return undefined;
      started.setAttributes({ 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpcMethod, 'dice.replica': replica ?? '' });
      return started;
    };

    const ended = ({ code, details }: Pick<StatusObject, 'code' | 'details'>): void => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const codeName = statusName(code);
      calls.inc({ method, code: codeName });
      duration.observe({ method, code: codeName }, seconds);
      // A call refused before its metadata arrived has had no span yet.
      if (!spanDecided) span = startSpan();
      const spanContext = span?.spanContext();
      if (span) {
        // The verified identity as nginx forwarded it: CN and subject, never the key or the certificate.
        span.setAttributes({ 'rpc.grpc.status_code': code, 'dice.messages_received': messagesReceived, 'dice.messages_sent': messagesSent, ...(client ? { 'dice.client.cn': client.commonName, 'dice.client.subject': client.subject } : {}) });
        if (failedCodes.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: `${codeName}: ${details}` });
        span.end();
      }
      const trace = spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
      const line = { method, requestId, authority: call.getHost(), peer: call.getPeer(), client, code: codeName, durationMs: Math.round(seconds * 1e6) / 1000, messagesReceived, messagesSent, userAgent, ...trace };
      // Container healthchecks call every few seconds, and health watchers hang up when done: not news.
      if (method.startsWith(healthServicePrefix) && (code === grpcStatus.OK || code === grpcStatus.CANCELLED)) logger.debug(line, 'rpc');
      else if (code !== grpcStatus.OK) logger.warn({ ...line, details }, 'rpc');
      else logger.info(line, 'rpc');
    };

    return {
      started(metadata, caller) {
        spanDecided = true;
        span = startSpan(metadata);
        const agent = metadata.get('user-agent')[0];
        userAgent = typeof agent === 'string' ? agent : undefined;
        client = caller.identity;
        const id = metadata.get(metadataKeys.requestId)[0];
        // Set by the web app (or any client) and passed on by nginx; bounded so a client cannot flood the log.
        requestId = typeof id === 'string' ? id.slice(0, 128) : undefined;
      },
      received: () => void (messagesReceived += 1),
      sent: () => void (messagesSent += 1),
      ended,
      cancelled(deadline) {
        // The caller's own timer and the reset it sends through nginx race this process's timer for
        // the same deadline; a reset that arrives within a moment of it is that deadline.
        const passed = (deadline instanceof Date ? deadline.getTime() : deadline) - deadlineResetSlackMs <= Date.now();
        ended(passed ? { code: grpcStatus.DEADLINE_EXCEEDED, details: "the caller's deadline passed" } : { code: grpcStatus.CANCELLED, details: 'the caller cancelled the call or reset the stream' });
      },
    };
  };
}
