// The server's span per RPC (call-record.ts), with an in-memory exporter: the caller's traceparent
// is its parent, the attributes name the method, status, replica and verified identity, a refusal
// sets the span's status, and the call's log line carries the ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { loadDiceApi, type DiceServiceClient } from '@dice/proto';
import { parseAccessPolicy } from './access-policy.ts';
import { createServer, type DiceServer } from './create-server.ts';
import { captureLogger } from './testing/capture-logger.ts';
import { certificateFor, edgeMetadata } from './testing/edge-metadata.ts';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const parentId = 'b7ad6b7169203331';
const withTraceparent = (metadata: grpc.Metadata): grpc.Metadata => {
  metadata.set('traceparent', `00-${traceId}-${parentId}-01`);
  return metadata;
};
const rollDie = (client: DiceServiceClient, metadata: grpc.Metadata): Promise<grpc.ServiceError | null> =>
  new Promise((resolve) => client.RollDie({}, metadata, { deadline: Date.now() + 5000 }, (error) => resolve(error)));

describe('a server span per RPC', () => {
  const exporter = new InMemorySpanExporter();
  // Exports each span as it ends, once the resource is settled: forceFlush() waits for that.
  const processor = new SimpleSpanProcessor({ exporter });
  const provider = new TracerProvider({ spanProcessors: [processor] });
  const { logger, lines } = captureLogger();
  let server: DiceServer;
  let client: DiceServiceClient;

  before(async () => {
    // What the SDK installs in the service (NodeSDK's default propagator).
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    server = createServer({ logger, replica: 'replica-a', tracer: provider.getTracer('test'), accessPolicy: parseAccessPolicy('api.DiceService/RollDie=dice-webapp;api.DiceService/RollDice=dice-webapp') });
    const port = await server.listen('127.0.0.1', 0);
    client = new (loadDiceApi().api.DiceService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await server.shutdown(1000);
    propagation.disable();
  });

  it('is a child of the caller\'s span, names the method, status, replica and identity, and its ids are in the log line', async () => {
    exporter.reset();
    assert.equal(await rollDie(client, withTraceparent(edgeMetadata(certificateFor('dice-webapp'), 'dice-webapp'))), null);
    await processor.forceFlush();
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.name, 'api.DiceService/RollDie');
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.parentSpanContext?.spanId, parentId);
    assert.deepEqual(
      { ...span.attributes },
      { 'rpc.system': 'grpc', 'rpc.service': 'api.DiceService', 'rpc.method': 'RollDie', 'dice.replica': 'replica-a', 'rpc.grpc.status_code': 0, 'dice.messages_received': 1, 'dice.messages_sent': 1, 'dice.client.cn': 'dice-webapp', 'dice.client.subject': 'CN=dice-webapp,O=Dice Stack' },
    );
    assert.equal(span.status.code, 0, 'unset: an OK call');
    const line = lines.findLast((entry) => entry['method'] === '/api.DiceService/RollDie');
    assert.deepEqual([line?.['trace_id'], line?.['span_id']], [traceId, span.spanContext().spanId]);
  });

  it('sets the span\'s status on a refusal, and starts a trace of its own without a traceparent', async () => {
    exporter.reset();
    const error = await rollDie(client, edgeMetadata(certificateFor('mallory'), 'mallory'));
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    await processor.forceFlush();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.status.code, 2, 'ERROR');
    assert.match(span?.status.message ?? '', /^PERMISSION_DENIED: /);
    assert.equal(span?.attributes['rpc.grpc.status_code'], grpc.status.PERMISSION_DENIED);
    assert.equal(span?.parentSpanContext, undefined);
    assert.notEqual(span?.spanContext().traceId, traceId);
  });

  it('ends a stream\'s one span when the caller cancels it, with its message counts and CANCELLED', { timeout: 10_000 }, async () => {
    exporter.reset();
    const call = client.RollDice({ count: 10, intervalMs: 200 }, withTraceparent(edgeMetadata(certificateFor('dice-webapp'), 'dice-webapp')));
    const answered = new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => {});
    await answered;
    call.cancel();
    const span = await new Promise<ReturnType<InMemorySpanExporter['getFinishedSpans']>[number]>((resolve) => {
      const look = (): void => {
        const found = exporter.getFinishedSpans().find((each) => each.name === 'api.DiceService/RollDice');
        if (found) resolve(found);
        else setTimeout(look, 10);
      };
      look();
    });
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.attributes['rpc.grpc.status_code'], grpc.status.CANCELLED);
    assert.equal(span.status.code, 2);
    assert.deepEqual([span.attributes['dice.messages_received'], span.attributes['dice.messages_sent']], [1, 1], 'the request, and the one die before the cancel');
  });

  it('makes no span and puts no ids in the log without a tracer (tracing off)', async () => {
    const quiet = captureLogger();
    const plain = createServer({ logger: quiet.logger });
    const port = await plain.listen('127.0.0.1', 0);
    const plainClient = new (loadDiceApi().api.DiceService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      assert.equal(await rollDie(plainClient, withTraceparent(edgeMetadata(certificateFor('dice-webapp'), 'dice-webapp'))), null);
      const line = quiet.lines.findLast((entry) => entry['method'] === '/api.DiceService/RollDie');
      assert.ok(line);
      assert.equal('trace_id' in line, false);
    } finally {
      plainClient.close();
      await plain.shutdown(1000);
    }
  });
});
