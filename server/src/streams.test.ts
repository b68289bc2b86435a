import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi, type DiceServiceClient, type RollDiceRequest, type RollRequest, type RollResult__Output } from '@dice/proto';
import { createServer, type DiceServer, type DiceServerOptions } from './create-server.ts';
import { createHealthClient } from './health-client.ts';
import { captureLogger } from './testing/capture-logger.ts';
import { certificateFor, edgeMetadata } from './testing/edge-metadata.ts';

const webappCertificate = certificateFor('dice-webapp');
const asWebapp = (): grpc.Metadata => edgeMetadata(webappCertificate, 'dice-webapp');

interface Ended {
  messages: number[];
  code: grpc.status;
  details: string;
  endedAt: number;
}

/** Reads a RollDice stream to its end: every value, and the status it ended with. */
function rollDice(client: DiceServiceClient, request: RollDiceRequest, options: grpc.CallOptions = {}): Promise<Ended> {
  return new Promise((resolve) => {
    const messages: number[] = [];
    const call = client.RollDice(request, asWebapp(), options);
    call.on('data', ({ value }: { value: number }) => messages.push(value));
    call.on('error', () => {});
    call.on('status', ({ code, details }: grpc.StatusObject) => resolve({ messages, code, details, endedAt: Date.now() }));
  });
}

/** Sends requests on a RollOnDemand stream (half-closing after them unless told), and reads it to its end. */
function rollOnDemand(client: DiceServiceClient, requests: RollRequest[], halfClose = true): Promise<{ answers: RollResult__Output[]; code: grpc.status; details: string; endedAt: number }> {
  return new Promise((resolve) => {
    const answers: RollResult__Output[] = [];
    const call = client.RollOnDemand(asWebapp());
    call.on('data', (answer: RollResult__Output) => answers.push(answer));
    call.on('error', () => {});
    call.on('status', ({ code, details }: grpc.StatusObject) => resolve({ answers, code, details, endedAt: Date.now() }));
    for (const request of requests) call.write(request);
    if (halfClose) call.end();
  });
}

async function started(options: Partial<DiceServerOptions> = {}) {
  const { logger, lines } = captureLogger();
  let rolls = 0;
  const server = createServer({ logger, replica: 'replica-a', roll: () => (rolls += 1, ((rolls - 1) % 6) + 1), ...options });
  const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
  return { server, client, address, lines, rolls: () => rolls };
}

describe('RollDice (server streaming) and RollOnDemand (bidirectional)', () => {
  let server: DiceServer;
  let client: DiceServiceClient;
  let lines: Array<Record<string, unknown>>;

  before(async () => {
    ({ server, client, lines } = await started({ maxMessageBytes: 4096 }));
  });
  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  it('sends count rolls, one message each, then OK; the log line counts the messages', async () => {
    lines.length = 0;
    const ended = await rollDice(client, { count: 7, intervalMs: 5 });
    assert.equal(ended.code, grpc.status.OK, ended.details);
    assert.equal(ended.messages.length, 7);
    assert.ok(ended.messages.every((value) => value >= 1 && value <= 6));
    const line = lines.find((l) => l['msg'] === 'rpc' && l['method'] === '/api.DiceService/RollDice');
    assert.equal(line?.['code'], 'OK');
    assert.equal(line?.['messagesSent'], 7);
    assert.equal(line?.['messagesReceived'], 1);
  });

  for (const [request, sentence] of [
    [{ count: 0, intervalMs: 0 }, 'count must be between 1 and 100 (got 0)'],
    [{ count: 101, intervalMs: 0 }, 'count must be between 1 and 100 (got 101)'],
    [{ count: 3, intervalMs: -1 }, 'interval_ms must be between 0 and 10000 (got -1)'],
    [{ count: 3, intervalMs: 10_001 }, 'interval_ms must be between 0 and 10000 (got 10001)'],
  ] as const) {
    it(`refuses RollDice ${JSON.stringify(request)} with INVALID_ARGUMENT: "${sentence}"`, async () => {
      const ended = await rollDice(client, request);
      assert.equal(ended.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(ended.details, sentence);
      assert.deepEqual(ended.messages, []);
    });
  }

  it('answers each RollOnDemand request in order, with its tag and count rolls', async () => {
    const ended = await rollOnDemand(client, [
      { tag: 'a', count: 1 },
      { tag: 'b', count: 3 },
      { tag: 'c', count: 100 },
    ]);
    assert.equal(ended.code, grpc.status.OK, ended.details);
    assert.deepEqual(
      ended.answers.map(({ tag, values }) => [tag, values.length]),
      [
        ['a', 1],
        ['b', 3],
        ['c', 100],
      ],
    );
  });

  it('carries more bytes on one stream than the per-message limit allows in one message', async () => {
    const tag = 'x'.repeat(1000);
    const ended = await rollOnDemand(client, Array.from({ length: 40 }, () => ({ tag, count: 1 })));
    assert.equal(ended.code, grpc.status.OK, ended.details);
    assert.equal(ended.answers.length, 40, '40 kB in all, past the 4 kB per-message limit');
  });

  it('refuses a RollOnDemand request out of range with INVALID_ARGUMENT, after answering the ones before', async () => {
    const ended = await rollOnDemand(client, [{ tag: 'fine', count: 2 }, { tag: 'y'.repeat(1025), count: 1 }], false);
    assert.equal(ended.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(ended.details, 'tag must be at most 1024 bytes (got 1025)');
    const zero = await rollOnDemand(client, [{ tag: 'none', count: 0 }], false);
    assert.equal(zero.details, 'count must be between 1 and 100 (got 0)');
  });

  it('refuses one message over the per-message limit with RESOURCE_EXHAUSTED', async () => {
    const ended = await rollOnDemand(client, [{ tag: 'z'.repeat(5000), count: 1 }], false);
    assert.equal(ended.code, grpc.status.RESOURCE_EXHAUSTED);
  });
});

describe('streams and time', () => {
  it("stops sending at the caller's deadline: DEADLINE_EXCEEDED at about the deadline, and the server logs it with the messages it sent", async () => {
    const { server, client, lines, rolls } = await started();
    try {
      const startedAt = Date.now();
      const ended = await rollDice(client, { count: 100, intervalMs: 100 }, { deadline: startedAt + 1000 });
      assert.equal(ended.code, grpc.status.DEADLINE_EXCEEDED);
      const took = ended.endedAt - startedAt;
      assert.ok(took >= 950 && took < 1500, `ended after ${took} ms`);
      const sentAtDeadline = rolls();
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(rolls(), sentAtDeadline, 'no roll after the deadline');
      assert.ok(sentAtDeadline >= 8 && sentAtDeadline <= 11, `${sentAtDeadline} rolls in 1 s at 100 ms`);
      const line = lines.find((l) => l['msg'] === 'rpc' && l['method'] === '/api.DiceService/RollDice');
      assert.equal(line?.['code'], 'DEADLINE_EXCEEDED');
      assert.equal(line?.['messagesSent'], ended.messages.length);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });

  it('ends a stream quiet for the idle time with DEADLINE_EXCEEDED and a sentence, both directions', async () => {
    const { server, client } = await started({ streamIdleMs: 400 });
    try {
      const startedAt = Date.now();
      const quietClient = await rollOnDemand(client, [], false);
      assert.equal(quietClient.code, grpc.status.DEADLINE_EXCEEDED);
      assert.match(quietClient.details, /^stream idle: no message either way for 400 ms/);
      assert.ok(quietClient.endedAt - startedAt >= 400 && quietClient.endedAt - startedAt < 1000, `after ${quietClient.endedAt - startedAt} ms`);
      const slowRolls = await rollDice(client, { count: 3, intervalMs: 2000 });
      assert.equal(slowRolls.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(slowRolls.messages.length, 1, 'the first roll came, the second would have come after the idle time');
      const busy = await rollDice(client, { count: 10, intervalMs: 200 });
      assert.equal(busy.code, grpc.status.OK, 'a stream sending more often than the idle time lasts past it');
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });

  it('keeps a health Watch open past the idle time by sending the status again', async () => {
    const { server, address } = await started({ streamIdleMs: 300 });
    const health = createHealthClient(address);
    try {
      const statuses: string[] = [];
      const call = health.Watch({ service: '' });
      let ended: grpc.StatusObject | undefined;
      call.on('data', ({ status }: { status: string }) => statuses.push(status));
      call.on('error', () => {});
      call.on('status', (status: grpc.StatusObject) => (ended = status));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(ended, undefined, `still open after 5 idle times (ended: ${JSON.stringify(ended)})`);
      assert.ok(statuses.length >= 5 && statuses.every((status) => status === 'SERVING'), JSON.stringify(statuses));
      call.cancel();
    } finally {
      health.close();
      await server.shutdown(1000);
    }
  });

  it('at shutdown ends health watches at once and other streams before the grace runs out, each with UNAVAILABLE and a sentence', async () => {
    const { server, client, address } = await started();
    const health = createHealthClient(address);
    try {
      const watch = new Promise<{ statuses: string[]; end: grpc.StatusObject }>((resolve) => {
        const statuses: string[] = [];
        const call = health.Watch({ service: '' });
        call.on('data', ({ status }: { status: string }) => statuses.push(status));
        call.on('error', () => {});
        call.on('status', (end: grpc.StatusObject) => resolve({ statuses, end }));
      });
      const long = rollDice(client, { count: 100, intervalMs: 50 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const shutdownAt = Date.now();
      const stopped = server.shutdown(1200);
      const watched = await watch;
      assert.deepEqual([watched.statuses.at(-1), watched.end.code], ['NOT_SERVING', grpc.status.UNAVAILABLE]);
      assert.ok(Date.now() - shutdownAt < 300, 'the watch ended at once');
      const rolled = await long;
      assert.equal(rolled.code, grpc.status.UNAVAILABLE);
      assert.match(rolled.details, /shutting down: open the stream again/);
      const at = rolled.endedAt - shutdownAt;
      assert.ok(at >= 500 && at < 1200, `ended ${at} ms into a 1200 ms grace, before it ran out`);
      await stopped;
    } finally {
      health.close();
      client.close();
    }
  });
});
