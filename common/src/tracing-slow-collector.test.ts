// The SDK as startTracing sets it up, in this process, against a collector that accepts the
// connection and never answers (the slowest a collector can be): spans made while it hangs must not
// pile up. Its own process (node --test runs each file in one), since the SDK registers globals.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trace } from '@opentelemetry/api';
import { startTracing, stopTracing } from './tracing.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap in use once the garbage is collected, in MB. */
const liveHeapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

describe('tracing with a collector that never answers', () => {
  const sockets = new Set<Socket>();
  const collector = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
  });

  after(async () => {
    await stopTracing();
    for (const socket of sockets) socket.destroy();
    collector.close();
  });

  it('holds at most a queue of spans (OTEL_BSP_MAX_QUEUE_SIZE), however many are made', { timeout: 30_000 }, async () => {
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const { port } = collector.address() as { port: number };
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${port}`;
    // Short, so the after hook's flush gives up soon.
    process.env['OTEL_EXPORTER_OTLP_TIMEOUT'] = '2000';
    await startTracing({ serviceName: 'slow-collector-test' });
    const tracer = trace.getTracer('slow-collector-test');
    // A thousand at a time, the event loop turning between, as calls would come: the exports start and hang.
    const makeSpans = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        if (i % 1000 === 0) await turn();
        const span = tracer.startSpan('api.DiceService/RollDie', { attributes: { 'rpc.method': 'RollDie', 'rpc.service': 'api.DiceService', 'dice.client.cn': `client-${i}`, 'dice.client.subject': `CN=client-${i},O=dice`, 'dice.replica': '0123456789ab', 'rpc.grpc.status_code': 0 } });
        span.end();
      }
    };
    await makeSpans(10_000);
    if (sockets.size === 0) await once(collector, 'connection');
    const filled = liveHeapMb();
    await makeSpans(60_000);
    const grown = liveHeapMb() - filled;
    // Each span held costs about 1 KB here: 60,000 more queued would be some 60 MB.
    assert.ok(grown < 8, `the heap grew by ${grown.toFixed(1)} MB over 60,000 more spans while the collector hung`);
  });
});
