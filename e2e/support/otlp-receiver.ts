// An OTLP/gRPC trace receiver of the suite's own (no collector image can be pulled here): the
// TraceService/Export method on grpc-js, decoding the real OTLP protobuf (otlp/trace_service.proto),
// keeping every span it is sent, flattened for assertions. stop() makes it go away (a collector
// that is down); refuse makes it answer UNAVAILABLE (one that refuses); hold makes it answer nothing
// until released (one that is slow, past the exporter's timeout).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  /** STATUS_CODE_UNSET, _OK or _ERROR, and its message. */
  status: { code: string; message: string };
  attributes: Record<string, string | number | boolean>;
  durationMs: number;
}

export interface OtlpReceiver {
  /** host:port it listens on. */
  port: number;
  spans: ReceivedSpan[];
  /** Export requests answered (spans or not). */
  requests: number;
  /** Spans received, kept or not. */
  received: number;
  refuse: boolean;
  /** Export requests are read and left unanswered while true. */
  hold: boolean;
  /** Answers the held requests (their spans are counted, not kept) and holds no more. */
  release(): void;
  stop(): Promise<void>;
}

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number; value?: string };
type KeyValue = { key: string; value?: AnyValue };
type WireSpan = { traceId: Buffer; spanId: Buffer; parentSpanId: Buffer; name: string; kind: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes: KeyValue[]; status?: { code: string; message: string } };
type ExportRequest = { resourceSpans: { resource?: { attributes: KeyValue[] }; scopeSpans: { spans: WireSpan[] }[] }[] };

const valueOf = (value: AnyValue | undefined): string | number | boolean => {
  if (!value) return '';
  if (value.value === 'intValue') return Number(value.intValue);
  if (value.value === 'doubleValue') return value.doubleValue ?? 0;
  if (value.value === 'boolValue') return value.boolValue ?? false;
  return value.stringValue ?? '';
};
const attributesOf = (list: KeyValue[] = []): Record<string, string | number | boolean> => Object.fromEntries(list.map((entry) => [entry.key, valueOf(entry.value)]));

/** Docker's host gateway on this machine (docker0, even while no container is on it): where containers reach a receiver on the host. */
export function dockerHostGatewayAddress(): string {
  const shown = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0'], { encoding: 'utf8' }).stdout ?? '';
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(shown)?.[1];
  if (!address) throw new Error(`no IPv4 address on docker0 (ip said: ${shown.trim() || 'nothing'}): the containers could not reach a receiver on this host`);
  return address;
}

/**
 * Starts the receiver on host:port (any free port by default; a given one brings a collector back where
 * the stack expects it); keepSpans false only counts them (make bench: memory stays flat).
 */
export async function startOtlpReceiver(host: string, { keepSpans = true, port = 0 } = {}): Promise<OtlpReceiver> {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('otlp/trace_service.proto', import.meta.url)), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const service = (grpc.loadPackageDefinition(definition) as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { TraceService: { service: grpc.ServiceDefinition } } } } } } }).opentelemetry.proto.collector.trace.v1.TraceService.service;
  const server = new grpc.Server();
  const held: (() => void)[] = [];
  const receiver: OtlpReceiver = {
    port: 0,
    spans: [],
    requests: 0,
    received: 0,
    refuse: false,
    hold: false,
    release: () => {
      receiver.hold = false;
      for (const answer of held.splice(0)) answer();
    },
    stop: async () => {},
  };
  server.addService(service, {
    Export: (call: grpc.ServerUnaryCall<ExportRequest, object>, callback: grpc.sendUnaryData<object>) => {
      receiver.requests++;
      if (receiver.hold) {
        const spans = call.request.resourceSpans.flatMap((resource) => resource.scopeSpans).reduce((sum, scope) => sum + scope.spans.length, 0);
        held.push(() => {
          receiver.received += spans;
          callback(null, {});
        });
        return;
      }
      if (receiver.refuse) {
        callback({ code: grpc.status.UNAVAILABLE, details: 'the test receiver refuses' });
        return;
      }
      for (const resourceSpans of call.request.resourceSpans) {
        const serviceName = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
        for (const scope of resourceSpans.scopeSpans) {
          receiver.received += scope.spans.length;
          if (!keepSpans) continue;
          for (const span of scope.spans) {
            receiver.spans.push({
              service: serviceName,
              traceId: span.traceId.toString('hex'),
              spanId: span.spanId.toString('hex'),
              parentSpanId: span.parentSpanId.toString('hex'),
              name: span.name,
              kind: span.kind,
              status: { code: span.status?.code ?? 'STATUS_CODE_UNSET', message: span.status?.message ?? '' },
              attributes: attributesOf(span.attributes),
              durationMs: Number((BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1000n) / 1000,
            });
          }
        }
      }
      callback(null, {});
    },
  });
  receiver.port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))));
  receiver.stop = () =>
    new Promise<void>((resolve) => {
      receiver.release();
      server.tryShutdown(() => resolve());
    });
  return receiver;
}
