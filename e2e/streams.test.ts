// Streaming RPCs, deadlines and server reflection through the real edge (docs/streams-and-deadlines.md).
// Its own stack with short stream timeouts, so each case runs in
// seconds: the edge lets a stream stay quiet 3 s (EDGE_STREAM_IDLE_TIMEOUT), the server ends a quiet
// one after 2 s with a status (STREAM_IDLE_TIMEOUT_MS), one message may be 16 KiB. Two server
// replicas, its own throwaway PKI, and an access policy that gives reflection to one client only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { metadataKeys, serviceNames, type DiceServiceClient } from '@dice/proto';
import { containerLogs, docker, waitFor } from './support/docker.ts';
import { edgeClient } from './support/edge-client.ts';
import { askReflection } from './support/reflection-client.ts';
import { rollDice, rollOnDemand, watchHealth } from './support/stream-calls.ts';
import { issuePki } from './support/pki.ts';
import { pythonRollDice } from './support/python-clients.ts';
import { startStack, type Stack } from './support/stack.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pki = issuePki({ clients: ['alice'] });
const edgeIdleMs = 3000;

const stackEnv = {
  CERTS_DIR: pki.dir,
  EDGE_RATE_LIMIT: 'off',
  EDGE_STREAM_IDLE_TIMEOUT: `${edgeIdleMs / 1000}s`,
  STREAM_IDLE_TIMEOUT_MS: '2000',
  EDGE_MAX_REQUEST_SIZE: '16k',
  MAX_MESSAGE_BYTES: '16384',
  ACCESS_POLICY: `${serviceNames.dice}/*=dice-webapp,alice;${serviceNames.reflection}/*=dice-webapp;${serviceNames.reflectionAlpha}/*=dice-webapp`,
};

interface AccessEntry {
  grpc_method: string;
  grpc_status: string;
  request_id: string;
}

describe('streams, deadlines and reflection through the edge', { timeout: 20 * 60_000 }, () => {
  let stack: Stack;
  let client: DiceServiceClient;
  const webapp = pki.webapp;
  const alice = pki.client('alice');

  async function accessLog(): Promise<AccessEntry[]> {
    const logs = await containerLogs(stack.container('nginx').getId());
    return logs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as AccessEntry);
  }

  before(async () => {
    stack = await startStack({ env: stackEnv });
    await stack.scale(2);
    client = edgeClient(stack.edgeAddress, webapp);
  });

  after(async () => {
    client?.close();
    await stack?.down();
    pki.remove();
  });

  it('keeps a server stream open well past the idle timeout while it sends more often, and ends it OK', async () => {
    const end = await rollDice(client, { count: 24, intervalMs: 400 }).ended;
    assert.equal(end.code, 'OK', end.details);
    assert.equal(end.messages.length, 24);
    assert.ok(end.tookMs > 3 * edgeIdleMs, `the stream lasted ${end.tookMs} ms, past 3 idle timeouts`);
    assert.ok(end.messages.every((value) => value >= 1 && value <= 6));
  });

  it('ends a stream quiet past the idle time with DEADLINE_EXCEEDED and a sentence from the server, never a reset; the access log has its status', async () => {
    const quietServer = await rollDice(client, { count: 3, intervalMs: 8000 }).ended;
    assert.equal(quietServer.code, 'DEADLINE_EXCEEDED', quietServer.details);
    assert.match(quietServer.details, /^stream idle: no message either way for 2000 ms/);
    assert.ok(quietServer.tookMs < edgeIdleMs, `ended after ${quietServer.tookMs} ms, before the edge's ${edgeIdleMs} ms`);
    assert.equal(quietServer.messages.length, 1);
    const quietClient = await rollOnDemand(client, [{ tag: 'first', count: 1 }], { keepOpen: true });
    assert.equal(quietClient.code, 'DEADLINE_EXCEEDED', quietClient.details);
    assert.match(quietClient.details, /^stream idle/);
    assert.deepEqual(quietClient.messages.map(({ tag }) => tag), ['first']);
    const streams = await waitFor('access-log lines for both streams', 10_000, async () => {
      const found = (await accessLog()).filter(({ grpc_status }) => grpc_status === '4');
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(new Set(streams.map(({ grpc_method }) => grpc_method)), new Set(['/api.DiceService/RollDice', '/api.DiceService/RollOnDemand']));
  });

  it('carries a bidirectional stream far past the per-message limit in total, all answered; one message over it: RESOURCE_EXHAUSTED', async () => {
    const tag = 't'.repeat(1000);
    const requests = Array.from({ length: 200 }, (_, i) => ({ tag: `${i}:${tag}`, count: 2 }));
    const end = await rollOnDemand(client, requests);
    assert.equal(end.code, 'OK', end.details);
    assert.equal(end.messages.length, 200, '200 kB sent on one stream: 12 times the 16 KiB message limit');
    assert.deepEqual(end.messages.map(({ tag: answered }) => answered.split(':')[0]), requests.map((_, i) => String(i)), 'answers in order, each with its tag');
    const tooBig = await rollOnDemand(client, [{ tag: 'x'.repeat(20_000), count: 1 }], { keepOpen: true });
    assert.equal(tooBig.code, 'RESOURCE_EXHAUSTED', tooBig.details);
  });

  it('refuses out-of-range requests with INVALID_ARGUMENT and a sentence, to grpc-js and to Python grpcio', async () => {
    const cases = [
      { count: 0, intervalMs: 100, sentence: 'count must be between 1 and 100 (got 0)' },
      { count: 5, intervalMs: 60_000, sentence: 'interval_ms must be between 0 and 10000 (got 60000)' },
    ];
    for (const { count, intervalMs, sentence } of cases) {
      const end = await rollDice(client, { count, intervalMs }).ended;
      assert.deepEqual([end.code, end.details], ['INVALID_ARGUMENT', sentence], 'grpc-js');
      const pythonEnd = pythonRollDice(stack.edgeAddress, webapp, count, intervalMs);
      assert.deepEqual([pythonEnd.code, pythonEnd.details], ['INVALID_ARGUMENT', sentence], 'Python grpcio');
    }
    const streamed = pythonRollDice(stack.edgeAddress, webapp, 5, 10);
    assert.deepEqual([streamed.code, streamed.values.length], ['OK', 5], 'Python grpcio reads a server stream through the edge');
  });

  it("ends a stream at the caller's 1 s deadline, carried through nginx: the server logs the call as DEADLINE_EXCEEDED and stops sending", async () => {
    const metadata = new Metadata();
    metadata.set(metadataKeys.requestId, `deadline-${Date.now()}`);
    const end = await rollDice(client, { count: 100, intervalMs: 100 }, { deadline: Date.now() + 1000 }, metadata).ended;
    assert.equal(end.code, 'DEADLINE_EXCEEDED');
    assert.ok(end.tookMs >= 950 && end.tookMs < 1500, `ended after ${end.tookMs} ms`);
    const line = await waitFor('the server log line of the call', 5000, async () => {
      const logs = (await Promise.all((await stack.containers('server')).map((id) => containerLogs(id)))).join('\n');
      const found = logs
        .split('\n')
        .filter((text) => text.startsWith('{') && text.includes(`"requestId":"${String(metadata.get(metadataKeys.requestId)[0])}"`))
        .map((text) => JSON.parse(text) as { code: string; messagesSent: number; durationMs: number });
      return found.at(-1);
    });
    assert.equal(line.code, 'DEADLINE_EXCEEDED');
    assert.ok(line.durationMs >= 900 && line.durationMs < 1200, `the server's call lasted ${line.durationMs} ms: it had the deadline`);
    assert.ok(line.messagesSent >= end.messages.length && line.messagesSent <= end.messages.length + 1, `the server sent ${line.messagesSent}, the client got ${end.messages.length}: sending stopped`);
  });

  it('keeps a health Watch open through the edge well past its idle timeout: the status arrives again, no reset', async () => {
    const watch = watchHealth(stack.edgeAddress, webapp);
    const outcome = await Promise.race([watch.ended, sleep(3 * edgeIdleMs).then(() => 'open' as const)]);
    assert.equal(outcome, 'open', `the Watch ended: ${JSON.stringify(outcome)}`);
    assert.ok(watch.statuses.length >= 3 && watch.statuses.every((status) => status === 'SERVING'), `statuses: ${watch.statuses.join(', ')}`);
    watch.cancel();
    assert.equal((await watch.ended).code, 'CANCELLED');
  });

  it('completes a stream while nginx reloads its configuration', async () => {
    const stream = rollDice(client, { count: 20, intervalMs: 200 });
    await sleep(1000);
    await stack.compose('exec', '-T', 'nginx', 'nginx', '-s', 'reload');
    const end = await stream.ended;
    assert.deepEqual([end.code, end.messages.length], ['OK', 20], end.details);
  });

  it('serves reflection (v1 and v1alpha) through the edge to a client the access policy allows: the services and api.proto', async () => {
    for (const version of ['v1', 'v1alpha'] as const) {
      const listed = await askReflection(stack.edgeAddress, webapp, version, { listServices: '*' });
      assert.ok(listed.services?.includes(serviceNames.dice) && listed.services.includes(serviceNames.health), `${version}: ${JSON.stringify(listed)}`);
      const described = await askReflection(stack.edgeAddress, webapp, version, { fileContainingSymbol: serviceNames.dice });
      const file = described.files?.find(({ name }) => name === 'api.proto');
      assert.deepEqual(file?.services, [{ name: 'DiceService', methods: ['RollDie', 'RollDice', 'RollOnDemand'] }], `${version}: ${JSON.stringify(described)}`);
    }
  });

  it('refuses reflection without a client certificate (UNAUTHENTICATED) and to a client the access policy leaves out (PERMISSION_DENIED)', async () => {
    await assert.rejects(askReflection(stack.edgeAddress, { ca: webapp.ca }, 'v1', { listServices: '*' }), (error: { code: number; details: string }) => error.code === 16 && /no client certificate/.test(error.details));
    await assert.rejects(askReflection(stack.edgeAddress, alice, 'v1', { listServices: '*' }), (error: { code: number; details: string }) => error.code === 7 && /client "alice" may not call \/grpc\.reflection\.v1\.ServerReflection/.test(error.details));
  });
  it('on a replica restart, ends its streams with UNAVAILABLE and a sentence (watches at once, others before the grace runs out); opened again, a stream is served', async () => {
    const watches = Array.from({ length: 4 }, () => watchHealth(stack.edgeAddress, webapp));
    const stream = rollDice(client, { count: 100, intervalMs: 200 });
    const replica = await stream.replica;
    const restarted = (await stack.containers('server')).find((id) => replica !== undefined && id.startsWith(replica));
    assert.ok(restarted, `the stream names a server replica (${replica})`);
    const watchReplicas = await Promise.all(watches.map((watch) => watch.replica));
    assert.ok(watchReplicas.includes(replica), `a watch is on the restarted replica too (${watchReplicas.join(', ')})`);
    await sleep(500);

    const stoppingAt = Date.now();
    // Docker sends SIGTERM and waits up to 15 s, as compose's stop_grace_period; SHUTDOWN_GRACE_MS is 10 s.
    const restarting = docker('restart', '--time', '15', restarted);
    for (const [i, watch] of watches.entries()) {
      if (watchReplicas[i] !== replica) continue;
      const end = await watch.ended;
      assert.equal(end.code, 'UNAVAILABLE', end.details);
      assert.match(end.details, /shutting down: watch again, another replica will answer/);
      assert.equal(watch.statuses.at(-1), 'NOT_SERVING', 'the watch heard NOT_SERVING before its stream ended');
      assert.ok(Date.now() - stoppingAt < 2000, 'the watch ended at once, not at the end of the grace');
    }
    const end = await stream.ended;
    const endedAfter = Date.now() - stoppingAt;
    assert.equal(end.code, 'UNAVAILABLE', end.details);
    assert.match(end.details, /shutting down: open the stream again, another replica will answer/);
    assert.ok(endedAfter >= 7000 && endedAfter < 10_000, `ended ${endedAfter} ms after SIGTERM: within the 10 s grace, near its end`);
    assert.ok(end.messages.length > 0 && end.messages.length < 100);

    const again = await rollDice(client, { count: 5, intervalMs: 10 }).ended;
    assert.deepEqual([again.code, again.messages.length], ['OK', 5], again.details);
    await restarting;
    for (const [i, watch] of watches.entries()) if (watchReplicas[i] !== replica) watch.cancel();
    // The access log is buffered: its lines arrive within a second.
    await waitFor('the edge to log UNAVAILABLE for the ended stream and watch', 10_000, async () => {
      const logged = (await accessLog()).filter(({ grpc_method, grpc_status }) => grpc_status === '14' && (grpc_method === '/api.DiceService/RollDice' || grpc_method === '/grpc.health.v1.Health/Watch'));
      return new Set(logged.map(({ grpc_method }) => grpc_method)).size === 2 ? true : undefined;
    });
  });
});
