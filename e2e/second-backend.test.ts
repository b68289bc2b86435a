// A second backend behind the shipped edge: echo.v1.Echo in Go (backends/go/echo-server), routed by
// nginx/routes.yaml on its own upstream like any service of yours. Every method kind, streams far
// larger than the unary size limit, a stream quiet for longer than the unary timeout, the edge's own
// answers naming this backend, and deadlines, cancellation, metadata (text and -bin) and status
// details passing the edge unchanged; the edge's access policy guarding a backend that has none;
// and each backend restarted under the other's load without a failed call.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { containerLogs, docker, waitFor, waitUntilHealthy } from './support/docker.ts';
import { echoClient, readAll, statusDetails, unary, type EchoClient, type EchoRequest } from './support/echo-client.ts';
import { issuePki } from './support/pki.ts';
import { startStack, type Stack } from './support/stack.ts';
import { underSteadyLoad } from './support/steady-load.ts';

const pki = issuePki({ clients: ['stranger'] });
const upstreamTimeoutS = 2;
const streamIdleTimeoutS = 10;
const stackEnv = {
  CERTS_DIR: pki.dir,
  EDGE_RATE_LIMIT: 'off',
  EDGE_MAX_REQUEST_SIZE: '64k',
  EDGE_UPSTREAM_TIMEOUT: `${upstreamTimeoutS}s`,
  EDGE_STREAM_IDLE_TIMEOUT: `${streamIdleTimeoutS}s`,
  // The Go backend has no authorization of its own: the edge's is all it gets.
  EDGE_ACCESS_POLICY: 'echo.v1.Echo/*=cn:dice-webapp;*=*',
};

const kib = 1024;
const bytes = (size: number, seed = 7): Buffer => Buffer.alloc(size, seed);
const metadataWith = (entries: Record<string, string | Buffer>): grpc.Metadata => {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
};
const requestId = (): string => `echo-${randomBytes(4).toString('hex')}`;

interface BackendLine {
  method: string;
  code: string;
  requestId: string;
  received: number;
  sent: number;
  durationMs: number;
}

describe('a second backend, in Go, behind the shipped edge', { timeout: 10 * 60_000 }, () => {
  let stack: Stack;
  let client: EchoClient;

  /** The Go backend's log line for a call (it writes one when the call ends). */
  const backendLine = (id: string): Promise<BackendLine> =>
    waitFor(`the Go backend to log ${id}`, 10_000, async () =>
      (await containerLogs(stack.container('echo').getId())).split('\n').filter((line) => line.includes(`"requestId":"${id}"`)).map((line) => JSON.parse(line) as BackendLine)[0],
    );

  /** Sends the requests on a bidirectional stream, one after the other's reply, and reads it to its end. */
  async function bidi(requests: EchoRequest[], metadata = new grpc.Metadata()) {
    const call = client.Bidi(metadata, { deadline: Date.now() + 60_000 });
    const ended = readAll(call);
    let replied = 0;
    const nextReply = (): Promise<void> => new Promise((resolve) => {
      const onData = (): void => {
        replied += 1;
        call.off('data', onData);
        resolve();
      };
      call.on('data', onData);
    });
    for (const request of requests) {
      const reply = nextReply();
      call.write(request);
      await Promise.race([reply, ended]);
    }
    call.end();
    const outcome = await ended;
    return { ...outcome, replied };
  }

  before(async () => {
    stack = await startStack({ env: stackEnv });
    client = echoClient(stack.edgeAddress, pki.webapp);
  });

  after(async () => {
    client?.close();
    await stack?.down();
    pki.remove();
  });

  it('answers a method of each kind through the edge', async () => {
    const single = await unary(client, { payload: Buffer.from('one') });
    assert.equal(single.code, 0, single.details);
    assert.equal(single.value?.payload.toString(), 'one');

    const streamed = await readAll(client.ServerStream({ payload: Buffer.from('many'), replies: 5 }, new grpc.Metadata(), {}));
    assert.equal(streamed.code, 0, streamed.details);
    assert.deepEqual(streamed.value?.map((reply) => [reply.sequence, reply.payload.toString()]), [0, 1, 2, 3, 4].map((sequence) => [sequence, 'many']));

    const uploaded = await new Promise<{ error: grpc.ServiceError | null; sequence?: number; receivedBytes?: number }>((resolve) => {
      const call = client.ClientStream(new grpc.Metadata(), {}, (error, reply) => resolve({ error, sequence: reply?.sequence, receivedBytes: reply?.receivedBytes }));
      for (let i = 0; i < 10; i++) call.write({ payload: bytes(100) });
      call.end();
    });
    assert.equal(uploaded.error, null);
    assert.deepEqual([uploaded.sequence, uploaded.receivedBytes], [10, 1000]);

    const exchanged = await bidi([1, 2, 3].map((n) => ({ payload: Buffer.from(`m${n}`) })));
    assert.equal(exchanged.code, 0, exchanged.details);
    assert.deepEqual(exchanged.value?.map((reply) => reply.payload.toString()), ['m1', 'm2', 'm3']);
  });

  it('carries a bidirectional stream of far more than EDGE_MAX_REQUEST_SIZE in total, and single messages near the backend\'s 4 MB limit', async () => {
    // 100 messages of 32 KiB: 3.2 MiB, fifty times the 64k a unary request may have.
    const exchanged = await bidi(Array.from({ length: 100 }, () => ({ payload: bytes(32 * kib) })));
    assert.equal(exchanged.code, 0, exchanged.details);
    assert.equal(exchanged.replied, 100);
    assert.equal(exchanged.value?.at(-1)?.receivedBytes, 100 * 32 * kib);

    const large = await bidi([{ payload: bytes(3 * 1024 * kib, 3) }]);
    assert.equal(large.code, 0, large.details);
    assert.ok(large.value?.[0]?.payload.equals(bytes(3 * 1024 * kib, 3)), 'a 3 MiB message echoed intact');

    const tooLarge = await bidi([{ payload: bytes(5 * 1024 * kib) }]);
    assert.equal(tooLarge.code, grpc.status.RESOURCE_EXHAUSTED, 'over the backend\'s own per-message limit: its status, through the edge');
    assert.match(tooLarge.details, /larger than max/);
  });

  it('refuses a unary request over EDGE_MAX_REQUEST_SIZE at the edge: RESOURCE_EXHAUSTED, nothing reaches the backend', async () => {
    const id = requestId();
    const refused = await unary(client, { payload: bytes(100 * kib) }, { metadata: metadataWith({ 'x-request-id': id }) });
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /^request message larger than the edge accepts \(64k\)/);
    const passed = await unary(client, { payload: bytes(60 * kib) });
    assert.equal(passed.code, 0, passed.details);
    assert.ok(!(await containerLogs(stack.container('echo').getId())).includes(id), 'the backend never saw the refused call');
  });

  it(`completes a stream quiet for longer than the unary timeout (${upstreamTimeoutS}s) but shorter than the stream idle timeout (${streamIdleTimeoutS}s), while a unary call that slow is the edge's DEADLINE_EXCEEDED naming the backend`, async () => {
    const quietMs = (upstreamTimeoutS + 2) * 1000;
    const quiet = await bidi([{ payload: Buffer.from('before') }, { payload: Buffer.from('after a pause'), delayMs: quietMs }]);
    assert.equal(quiet.code, 0, quiet.details);
    assert.deepEqual(quiet.value?.map((reply) => reply.payload.toString()), ['before', 'after a pause']);

    const slow = await unary(client, { delayMs: quietMs }, { deadlineMs: 20_000 });
    assert.equal(slow.code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(slow.details, new RegExp(`^the echo backend did not answer within the edge's upstream timeout \\(${upstreamTimeoutS}s\\)`));
  });

  it('passes a deadline to the backend, and a cancellation: the backend stops working on the call', async () => {
    const late = requestId();
    const deadlined = await unary(client, { delayMs: 5000 }, { deadlineMs: 300, metadata: metadataWith({ 'x-request-id': late }) });
    assert.equal(deadlined.code, grpc.status.DEADLINE_EXCEEDED);
    // The backend ended its 5 s wait when the deadline passed (grpc-timeout, forwarded by nginx) or
    // the call was reset, not 5 s later.
    const lateLine = await backendLine(late);
    assert.ok(lateLine.durationMs < 2000, `the backend gave up after ${lateLine.durationMs} ms`);
    assert.equal(lateLine.sent, 0);

    const cancelled = requestId();
    const call = client.ServerStream({ payload: Buffer.from('tick'), replies: 1000, delayMs: 20 }, metadataWith({ 'x-request-id': cancelled }), {});
    const ended = readAll(call);
    let received = 0;
    call.on('data', () => {
      received += 1;
      if (received === 3) call.cancel();
    });
    const outcome = await ended;
    assert.equal(outcome.code, grpc.status.CANCELLED);
    const line = await backendLine(cancelled);
    assert.equal(line.code, 'CANCELLED', 'the backend saw the cancellation');
    assert.ok(line.sent < 100, `the backend stopped after ${line.sent} of 1000 replies`);
  });

  it('passes custom metadata, text and -bin, both ways unchanged', async () => {
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d, 0x0a]);
    const sent = { 'x-echo-note': 'hello, edge', 'x-echo-blob-bin': binary };
    const checkEchoed = (where: string, metadata: grpc.Metadata | undefined): void => {
      assert.deepEqual(metadata?.get('x-echo-note'), ['hello, edge'], `${where}: text metadata`);
      const [blob] = metadata?.get('x-echo-blob-bin') ?? [];
      assert.ok(Buffer.isBuffer(blob) && blob.equals(binary), `${where}: binary metadata (${String(blob)})`);
    };
    const single = await unary(client, { payload: Buffer.from('m') }, { metadata: metadataWith(sent) });
    assert.equal(single.code, 0, single.details);
    checkEchoed('unary headers', single.headers);
    checkEchoed('unary trailers', single.trailers);
    const streamed = await bidi([{ payload: Buffer.from('m') }], metadataWith(sent));
    assert.equal(streamed.code, 0, streamed.details);
    checkEchoed('stream headers', streamed.headers);
    checkEchoed('stream trailers', streamed.trailers);
  });

  it('passes a non-OK status with its message and details (grpc-status-details-bin) unchanged, from a unary call and from a stream', async () => {
    const failed = await unary(client, { failCode: grpc.status.FAILED_PRECONDITION, failMessage: 'the ledger is closed: reopen it first' });
    assert.equal(failed.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(failed.details, 'the ledger is closed: reopen it first');
    assert.deepEqual(statusDetails(failed.trailers), {
      code: grpc.status.FAILED_PRECONDITION,
      message: 'the ledger is closed: reopen it first',
      details: [{ typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', errorInfo: { reason: 'REQUESTED_FAILURE', domain: 'echo.v1.Echo', metadata: { fail_code: '9' } } }],
    });

    const streamFailed = await bidi([{ payload: Buffer.from('fine') }, { failCode: grpc.status.ABORTED, failMessage: 'conflict: retry the transaction' }]);
    assert.equal(streamFailed.code, grpc.status.ABORTED);
    assert.equal(streamFailed.details, 'conflict: retry the transaction');
    assert.deepEqual(streamFailed.value?.map((reply) => reply.payload.toString()), ['fine']);
    assert.equal(statusDetails(streamFailed.trailers)?.details[0]?.errorInfo?.metadata['fail_code'], String(grpc.status.ABORTED));
  });

  it('guards the backend with the edge\'s access policy: a client it does not name is PERMISSION_DENIED at the edge, the dice service still open to it', async () => {
    const stranger = echoClient(stack.edgeAddress, pki.client('stranger'));
    try {
      const id = requestId();
      const refused = await unary(stranger, { payload: Buffer.from('x') }, { metadata: metadataWith({ 'x-request-id': id }) });
      assert.equal(refused.code, grpc.status.PERMISSION_DENIED);
      assert.equal(refused.details, "client cn:stranger may not call /echo.v1.Echo/Unary: ask for one of its identities to be added to the edge's EDGE_ACCESS_POLICY");
      assert.ok(!(await containerLogs(stack.container('echo').getId())).includes(id), 'the backend never saw the refused call');
    } finally {
      stranger.close();
    }
  });

  it('restarts the Go backend under dice load without failing a dice call, and the dice server under echo load without failing an echo call', async () => {
    const diceReport = await underSteadyLoad({ address: stack.edgeAddress, identity: pki.webapp, callsPerSecond: 50 }, async () => {
      await docker('restart', '--time', '15', stack.container('echo').getId());
      await waitUntilHealthy('the Go backend to be healthy again', stack.container('echo').getId());
    });
    assert.ok(diceReport.total > 20, `dice calls were made (${diceReport.total})`);
    assert.deepEqual(Object.keys(diceReport.byCode), ['OK'], `dice calls while the Go backend restarted: ${JSON.stringify(diceReport.byCode)} ${diceReport.failures.join('; ')}`);

    // Unary echo calls without retries, every 20 ms, while the dice server restarts (its drain).
    const codes: Record<string, number> = {};
    let running = true;
    const echoLoad = (async () => {
      while (running) {
        const outcome = await unary(client, { payload: Buffer.from('steady') }, { deadlineMs: 5000 });
        const name = grpc.status[outcome.code] ?? String(outcome.code);
        codes[name] = (codes[name] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await docker('restart', '--time', '15', stack.container('server').getId());
      await waitUntilHealthy('the dice server to be healthy again', stack.container('server').getId());
    } finally {
      running = false;
      await echoLoad;
    }
    assert.ok((codes['OK'] ?? 0) > 20, `echo calls were made (${JSON.stringify(codes)})`);
    assert.deepEqual(Object.keys(codes), ['OK'], `echo calls while the dice server restarted: ${JSON.stringify(codes)}`);
  });
});
