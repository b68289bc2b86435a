// Tracing, end to end: the stack with the server and the web app exporting to the suite's own OTLP
// receiver (support/otlp-receiver.ts; compose.tracing.yml points them at it). Each test sends its own
// W3C traceparent, so its spans are found by a trace id nobody else uses: one GET /api/roll is one
// trace (the web app's server span, its gRPC client span, the dice server's span, linked parent to
// child, nginx passing the context through and logging it); a RollDice stream is one span with its
// message count; a refused call's span says PERMISSION_DENIED; the logs carry the ids; and with the
// receiver holding its exports, refusing or gone, calls go on and each service says so once per
// outage, and once more when exports work again. (That the spans of such an outage do not pile up
// is common/src/tracing-slow-collector.test.ts: a heap measured after collection, in process.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { waitFor } from './support/docker.ts';
import { edgeClient } from './support/edge-client.ts';
import { dockerHostGatewayAddress, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import { issuePki, type Pki } from './support/pki.ts';
import { startStack, type Stack } from './support/stack.ts';

const newTraceparent = (): { traceparent: string; traceId: string; parentId: string } => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceparent: `00-${traceId}-${parentId}-01`, traceId, parentId };
};

describe('tracing with OpenTelemetry', { timeout: 10 * 60_000 }, () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let pki: Pki;
  /** The spans of one trace, once `count` of them have arrived. */
  const traceOf = (traceId: string, count: number): Promise<ReceivedSpan[]> =>
    waitFor(`${count} spans of trace ${traceId}`, 20_000, async () => {
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      return spans.length >= count ? spans : undefined;
    });

  before(async () => {
    receiver = await startOtlpReceiver(dockerHostGatewayAddress());
    pki = issuePki({ clients: ['stranger'] });
    stack = await startStack({
      env: { CERTS_DIR: pki.dir, OTLP_RECEIVER_PORT: String(receiver.port), ACCESS_POLICY: 'api.DiceService/RollDie=dice-webapp;api.DiceService/RollDice=stranger' },
      overrides: ['e2e/compose.tracing.yml'],
    });
  });

  after(async () => {
    await stack?.down();
    await receiver?.stop();
    pki?.remove();
  });

  it('makes one GET /api/roll one trace: the web app\'s server span, its gRPC client span, the dice server\'s span, parent to child, through nginx', async () => {
    // A health probe first: it makes no span (probes would bury the requests people make).
    const probe = newTraceparent();
    assert.equal((await fetch(`${stack.webappUrl}/healthz`, { headers: { traceparent: probe.traceparent } })).status, 200);
    const { traceparent, traceId, parentId } = newTraceparent();
    const response = await fetch(`${stack.webappUrl}/api/roll`, { headers: { traceparent } });
    assert.equal(response.status, 200);
    const spans = await traceOf(traceId, 4);
    assert.deepEqual(
      spans.filter((span) => span.service === 'dice-webapp').map((span) => `${span.name} ${span.kind}`).sort(),
      ['GET /api/roll SPAN_KIND_SERVER', 'grpc.api.DiceService/RollDie SPAN_KIND_CLIENT', 'handler - apiRoutes SPAN_KIND_INTERNAL'],
      'the web app\'s spans: Fastify\'s request as the server span and its handler (no span per hook), the gRPC call',
    );
    const request = spans.find((span) => span.service === 'dice-webapp' && span.kind === 'SPAN_KIND_SERVER');
    assert.deepEqual([request?.parentSpanId, request?.attributes['http.route'], request?.attributes['http.response.status_code']], [parentId, '/api/roll', 200], 'the server span continues the caller\'s trace and names the route and status');
    assert.deepEqual(receiver.spans.filter((span) => span.traceId === probe.traceId), [], 'no span of the probe, exported before this call\'s');
    const server = spans.find((span) => span.service === 'dice-server');
    assert.ok(server, `a dice-server span in ${JSON.stringify(spans.map((span) => [span.service, span.name, span.kind]))}`);
    const client = spans.find((span) => span.spanId === server.parentSpanId);
    assert.ok(client, 'the server span\'s parent is one of the trace\'s spans');
    assert.deepEqual([client.service, client.kind], ['dice-webapp', 'SPAN_KIND_CLIENT'], 'the web app\'s gRPC client span');
    assert.match(client.name, /api\.DiceService\/RollDie/);
    assert.deepEqual([server.name, server.kind, server.status.code], ['api.DiceService/RollDie', 'SPAN_KIND_SERVER', 'STATUS_CODE_UNSET']);
    assert.equal(server.attributes['rpc.grpc.status_code'], 0);
    assert.equal(server.attributes['rpc.method'], 'RollDie');
    assert.equal(server.attributes['dice.client.cn'], 'dice-webapp', 'the verified identity, not the certificate');
    assert.match(String(server.attributes['dice.replica']), /^[0-9a-f]{12}$/);
    // Up the chain from the client span, within the web app, to the span our traceparent named.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    let top = client;
    while (byId.has(top.parentSpanId)) top = byId.get(top.parentSpanId) as ReceivedSpan;
    assert.equal(top.parentSpanId, parentId, 'the web app continued the caller\'s trace');
    assert.ok(spans.some((span) => span.service === 'dice-webapp' && span.kind === 'SPAN_KIND_SERVER'), 'the web app\'s server span');

    // nginx passed the client span's context on, and logged it.
    const edgeLine = await waitFor('the edge\'s access-log line of the call', 10_000, async () => (await stack.logs('nginx')).split('\n').find((line) => line.includes(`"trace_id":"${traceId}"`)));
    assert.match(edgeLine, new RegExp(`"span_id":"${client.spanId}"`), 'the traceparent nginx saw is the client span\'s');
    // The server's and the web app's log lines carry the ids.
    const serverLine = await waitFor('the server\'s line of the call', 10_000, async () => (await stack.logs('server')).split('\n').find((line) => line.includes(`"trace_id":"${traceId}"`)));
    assert.match(serverLine, new RegExp(`"span_id":"${server.spanId}"`));
    const webappLine = await waitFor('a web app line of the request', 10_000, async () => (await stack.logs('webapp')).split('\n').find((line) => line.includes(`"trace_id":"${traceId}"`)));
    assert.match(webappLine, /"span_id":"[0-9a-f]{16}"/);
  });

  it('makes a RollDice stream one server span with its message count, and a refused call a span with PERMISSION_DENIED', async () => {
    const client = edgeClient(stack.edgeAddress, pki.client('stranger'), { retries: 'off' });
    try {
      const stream = newTraceparent();
      const metadata = new grpc.Metadata();
      metadata.set('traceparent', stream.traceparent);
      const values = await new Promise<number[]>((resolve, reject) => {
        const seen: number[] = [];
        const call = client.RollDice({ count: 4 }, metadata, { deadline: Date.now() + 10_000 });
        call.on('data', (die: { value: number }) => seen.push(die.value));
        call.on('error', reject);
        call.on('end', () => resolve(seen));
      });
      assert.equal(values.length, 4);
      const [streamSpan] = await traceOf(stream.traceId, 1);
      assert.deepEqual([streamSpan?.name, streamSpan?.parentSpanId, streamSpan?.attributes['dice.messages_sent'], streamSpan?.attributes['rpc.grpc.status_code']], ['api.DiceService/RollDice', stream.parentId, 4, 0]);

      const refused = newTraceparent();
      const refusedMetadata = new grpc.Metadata();
      refusedMetadata.set('traceparent', refused.traceparent);
      const error = await new Promise<grpc.ServiceError>((resolve) => client.RollDie({}, refusedMetadata, { deadline: Date.now() + 5000 }, (failure) => resolve(failure as grpc.ServiceError)));
      assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
      const [refusedSpan] = await traceOf(refused.traceId, 1);
      assert.equal(refusedSpan?.status.code, 'STATUS_CODE_ERROR');
      assert.match(refusedSpan?.status.message ?? '', /^PERMISSION_DENIED: /);
      assert.equal(refusedSpan?.attributes['dice.client.cn'], 'stranger');
    } finally {
      client.close();
    }
  });

  /** GET /api/roll `count` times, `inFlight` at a time, each its own sampled trace; the answers that were not 200. */
  const roll = async (count: number, inFlight = 4): Promise<string[]> => {
    const failures: string[] = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (started++ < count) {
          const response = await fetch(`${stack.webappUrl}/api/roll`, { headers: { traceparent: newTraceparent().traceparent } });
          if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
          else await response.arrayBuffer();
        }
      }),
    );
    return failures;
  };
  /** Sends traced requests until one request's whole trace reaches the receiver: both services export again (a batch sent while they could not is lost). */
  const untilSpansArrive = async (): Promise<ReceivedSpan[]> => {
    const sent: string[] = [];
    const answers: number[] = [];
    const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((span) => span.traceId === traceId);
    // The two services reconnect each on its own: a request's spans from one may still fall in a
    // failed batch after the other's arrive. Done when one request's whole trace (4 spans) is in.
    const traceId = await waitFor('a whole trace reaching the receiver again', 30_000, async () => {
      const { traceparent, traceId: sentId } = newTraceparent();
      sent.push(sentId);
      const response = await fetch(`${stack.webappUrl}/api/roll`, { headers: { traceparent } });
      answers.push(response.status);
      await response.arrayBuffer();
      return sent.find((id) => spansOf(id).length >= 4);
    });
    assert.deepEqual(answers.filter((status) => status !== 200), [], 'every call answered meanwhile');
    const spans = spansOf(traceId);
    assert.ok(spans.some((span) => span.service === 'dice-server') && spans.some((span) => span.service === 'dice-webapp'), JSON.stringify(spans.map((span) => [span.service, span.name])));
    return spans;
  };
  /** Each service's log lines since then that contain the text. */
  const linesOf = async (since: string, text: string): Promise<Record<'webapp' | 'server', string[]>> => {
    const [webapp = [], server = []] = await Promise.all((['webapp', 'server'] as const).map(async (service) => (await stack.logs(service, { since })).split('\n').filter((line) => line.includes(text))));
    return { webapp, server };
  };
  /** linesOf, once every service has one. */
  const linesOfEach = (since: string, text: string, timeoutMs: number): Promise<Record<'webapp' | 'server', string[]>> =>
    waitFor(`a line "${text}" from the web app and the server`, timeoutMs, async () => {
      const lines = await linesOf(since, text);
      return lines.webapp.length > 0 && lines.server.length > 0 ? lines : undefined;
    });

  it('answers every call while the collector holds its exports past the exporter\'s timeout; each service says so once, and once when it answers again', async () => {
    const since = new Date().toISOString();
    receiver.hold = true;
    assert.deepEqual(await roll(1500, 8), [], 'every request answered 200 while the exports hung');
    // The exporter gives up on a held export after its 10 s timeout (OTEL_EXPORTER_OTLP_TIMEOUT).
    await linesOfEach(since, 'the trace exporter failed', 30_000);
    receiver.release();
    await untilSpansArrive();
    const recovered = await linesOfEach(since, 'the trace exporter works again', 10_000);
    const again = await linesOf(since, 'the trace exporter failed');
    for (const service of ['webapp', 'server'] as const) {
      assert.equal(again[service].length, 1, `${service}: one line for the outage, not one per batch: ${again[service].join('\n')}`);
      assert.match(again[service][0] ?? '', /DEADLINE_EXCEEDED/, 'the reason: the collector did not answer in time');
      assert.equal(recovered[service].length, 1, `${service}: ${recovered[service].join('\n')}`);
      assert.match(recovered[service][0] ?? '', /works again; \d+ spans of failed exports were dropped meanwhile/);
    }
  });

  it('fails no call while the receiver refuses and then is gone, says so once per service, and exports again when a collector is back', async () => {
    const since = new Date().toISOString();
    receiver.refuse = true;
    const answered = receiver.requests;
    const failures = await roll(200);
    await waitFor('an export the receiver refused', 10_000, async () => (receiver.requests > answered ? true : undefined));
    await receiver.stop();
    failures.push(...(await roll(1000)));
    assert.deepEqual(failures, []);
    await linesOfEach(since, 'the trace exporter failed', 20_000);
    // A collector back where the stack expects it (the same port): the spans flow again.
    receiver = await startOtlpReceiver(dockerHostGatewayAddress(), { port: receiver.port });
    await untilSpansArrive();
    await linesOfEach(since, 'the trace exporter works again', 10_000);
    const said = await linesOf(since, 'the trace exporter failed');
    for (const service of ['webapp', 'server'] as const) assert.equal(said[service].length, 1, `${service}: one line while refused and gone, not one per batch: ${said[service].join('\n')}`);
  });

  it("adds Node's HTTP span above Fastify's when OTEL_NODE_ENABLED_INSTRUMENTATIONS names http", async () => {
    stack = await stack.update({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,fastify,grpc,pino' });
    const { traceparent, traceId, parentId } = newTraceparent();
    assert.equal((await fetch(`${stack.webappUrl}/api/roll`, { headers: { traceparent } })).status, 200);
    const spans = await traceOf(traceId, 5);
    const webapp = spans.filter((span) => span.service === 'dice-webapp');
    const named = (name: string): ReceivedSpan | undefined => webapp.find((span) => span.name === name);
    assert.deepEqual(
      webapp.map((span) => `${span.name} ${span.kind}`).sort(),
      ['GET /api/roll SPAN_KIND_SERVER', 'grpc.api.DiceService/RollDie SPAN_KIND_CLIENT', 'handler - apiRoutes SPAN_KIND_INTERNAL', 'request SPAN_KIND_INTERNAL'],
    );
    const http = named('GET /api/roll');
    assert.equal(http?.parentSpanId, parentId, "Node's HTTP span continues the caller's trace");
    assert.equal(named('request')?.parentSpanId, http?.spanId, "Fastify's request span is below it");
  });
});
