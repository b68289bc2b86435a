import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi, type DiceServiceClient, type RollDieResponse__Output } from '@dice/proto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createServer, type DiceServer } from './create-server.ts';
import { parseAccessPolicy } from './access-policy.ts';
import { createHealthClient } from './health-client.ts';
import { captureLogger } from './testing/capture-logger.ts';
import { certificateFor, edgeMetadata } from './testing/edge-metadata.ts';

const webappCertificate = certificateFor('dice-webapp');
const asWebapp = (): grpc.Metadata => edgeMetadata(webappCertificate, 'dice-webapp');

/** A RollDie call; by default with the identity nginx forwards for the web app's certificate. */
function roll(client: DiceServiceClient, metadata = asWebapp()): Promise<RollDieResponse__Output> {
  return new Promise((resolve, reject) => {
    client.RollDie({}, metadata, { deadline: Date.now() + 5000 }, (error, response) => (error || !response ? reject(error) : resolve(response)));
  });
}

/** Follows health.v1 Watch; next(status) resolves when that status arrives. */
function watchHealth(address: string) {
  const client = createHealthClient(address);
  const stream = client.Watch({ service: '' });
  const seen: string[] = [];
  const waiters: Array<{ status: string; resolve: () => void }> = [];
  stream.on('data', ({ status }: { status: string }) => {
    seen.push(status);
    for (const waiter of waiters.filter((w) => w.status === status)) waiter.resolve();
  });
  stream.on('error', () => {});
  return {
    next: (status: string) => new Promise<void>((resolve) => (seen.includes(status) ? resolve() : waiters.push({ status, resolve }))),
    cancel: () => {
      stream.cancel();
      client.close();
    },
  };
}

function healthStatus(address: string, service: string): Promise<string> {
  const client = createHealthClient(address);
  return new Promise((resolve, reject) => {
    client.Check({ service }, { deadline: Date.now() + 5000 }, (error, response) => {
      client.close();
      if (error || !response) reject(error);
      else resolve(response.status);
    });
  });
}

describe('dice server', () => {
  const { logger, lines } = captureLogger();
  const metrics = new Registry();
  let server: DiceServer;
  let client: DiceServiceClient;
  let address: string;

  before(async () => {
    server = createServer({ logger, replica: 'replica-a', metrics });
    const port = await server.listen('127.0.0.1', 0);
    address = `127.0.0.1:${port}`;
    client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  it('rolls values from 1 to 6 and, over many rolls, every face', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const { value } = await roll(client);
      assert.ok(Number.isInteger(value) && value >= 1 && value <= 6, `out of range: ${value}`);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6]);
  });

  it('answers the standard health service with SERVING, without an info log line per check', async () => {
    lines.length = 0;
    assert.equal(await healthStatus(address, ''), 'SERVING');
    assert.deepEqual(lines.filter((line) => line['msg'] === 'rpc'), [], 'passing health checks log at debug');
    assert.equal(await healthStatus(address, 'api.DiceService'), 'SERVING');
  });

  it('writes one log line per RPC with method, code, client, peer, authority, duration and user-agent', async () => {
    lines.length = 0;
    await roll(client);
    const rpcLines = lines.filter((line) => line['msg'] === 'rpc');
    assert.equal(rpcLines.length, 1);
    const [line] = rpcLines;
    assert.equal(line?.['method'], '/api.DiceService/RollDie');
    assert.equal(line?.['code'], 'OK');
    assert.equal(line?.['authority'], address);
    assert.match(String(line?.['peer']), /^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|::ffff:127\.0\.0\.1):\d+$/);
    assert.match(String(line?.['userAgent']), /grpc-node-js/);
    assert.equal(typeof line?.['durationMs'], 'number');
    const caller = line?.['client'] as Record<string, unknown> | undefined;
    assert.equal(caller?.['commonName'], 'dice-webapp');
    assert.equal(caller?.['subject'], 'CN=dice-webapp,O=Dice Stack');
    assert.match(String(caller?.['sha256']), /^[0-9a-f]{64}$/);
  });

  it('refuses a call without the identity nginx forwards with UNAUTHENTICATED, and logs it', async () => {
    lines.length = 0;
    await assert.rejects(roll(client, new grpc.Metadata()), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAUTHENTICATED);
      assert.match(error.details, /no verified client identity: call through the TLS edge/);
      return true;
    });
    const line = lines.find((l) => l['msg'] === 'rpc');
    assert.equal(line?.['code'], 'UNAUTHENTICATED');
    assert.equal(line?.['level'], 40);
  });

  it('names the answering replica in the response headers, and in the trailers of a failure', async () => {
    const headers = await new Promise<grpc.Metadata>((resolve, reject) => {
      const call = client.RollDie({}, asWebapp(), (error) => error && reject(error));
      call.on('metadata', resolve);
    });
    assert.deepEqual(headers.get('x-dice-replica'), ['replica-a']);
    const trailers = await new Promise<grpc.Metadata>((resolve) => {
      const call = client.RollDie({}, new grpc.Metadata(), () => {});
      call.on('status', (status: grpc.StatusObject) => resolve(status.metadata));
    });
    assert.deepEqual(trailers.get('x-dice-replica'), ['replica-a']);
  });

  it('logs the x-request-id the caller sent', async () => {
    lines.length = 0;
    const metadata = asWebapp();
    metadata.set('x-request-id', 'req-123');
    await roll(client, metadata);
    assert.equal(lines.find((l) => l['msg'] === 'rpc')?.['requestId'], 'req-123');
  });

  it('counts RPCs and their durations by method and code in the metrics', async () => {
    const before = await metrics.getSingleMetricAsString('dice_server_rpcs_total');
    const okBefore = Number(/dice_server_rpcs_total\{method="\/api.DiceService\/RollDie",code="OK"\} (\d+)/.exec(before)?.[1] ?? 0);
    await roll(client);
    await roll(client);
    await roll(client, new grpc.Metadata()).catch(() => {});
    const text = await metrics.metrics();
    assert.match(text, new RegExp(`dice_server_rpcs_total\\{method="/api.DiceService/RollDie",code="OK"\\} ${okBefore + 2}\n`));
    assert.match(text, /dice_server_rpcs_total\{method="\/api.DiceService\/RollDie",code="UNAUTHENTICATED"\} [1-9]/);
    assert.match(text, /dice_server_rpc_duration_seconds_count\{method="\/api.DiceService\/RollDie",code="OK"\} [1-9]/);
  });

  it('answers an unknown method with UNIMPLEMENTED', async () => {
    const code = await new Promise<number>((resolve) => {
      client.makeUnaryRequest('/api.DiceService/Cheat', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (error) => resolve(error?.code ?? grpc.status.OK));
    });
    assert.equal(code, grpc.status.UNIMPLEMENTED);
  });
});

describe('dice server with an access policy', () => {
  it('lets the listed client call, refuses another with PERMISSION_DENIED, and still answers health', async () => {
    const server = createServer({ logger: pino({ level: 'silent' }), accessPolicy: parseAccessPolicy('api.DiceService/RollDie=dice-webapp') });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
    try {
      assert.ok((await roll(client)).value >= 1);
      await assert.rejects(roll(client, edgeMetadata(certificateFor('mallory'), 'mallory')), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.PERMISSION_DENIED);
        assert.equal(error.details, 'client "mallory" may not call /api.DiceService/RollDie: ask for it to be added to ACCESS_POLICY');
        return true;
      });
      assert.equal(await healthStatus(address, 'api.DiceService'), 'SERVING');
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });
});

describe('dice server with a failing die', () => {
  it('answers INTERNAL with a sentence, no internals, and logs the failure at warn', async () => {
    const { logger, lines } = captureLogger();
    const server = createServer({ logger, roll: () => { throw new Error('entropy pool on fire at /secret/path'); } });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
    try {
      await assert.rejects(roll(client), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.INTERNAL);
        assert.equal(error.details, 'the die could not be rolled');
        return true;
      });
      const line = lines.find((l) => l['msg'] === 'rpc');
      assert.equal(line?.['code'], 'INTERNAL');
      assert.equal(line?.['level'], 40);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });
});

describe('dice server shutdown', () => {
  const waitUntil = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  function gatedRoll() {
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const callStarted = new Promise<void>((resolve) => (started = resolve));
    const roll = async (): Promise<number> => {
      started();
      await gate;
      return 4;
    };
    return { roll, release, callStarted };
  }

  it('goes NOT_SERVING, refuses new calls, and lets an in-flight call finish', async () => {
    const { roll: slowRoll, release, callStarted } = gatedRoll();
    const server = createServer({ logger: pino({ level: 'silent' }), roll: slowRoll });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
    const watcher = watchHealth(address);
    try {
      await watcher.next('SERVING');
      const inFlight = roll(client);
      await callStarted;
      const stopped = server.shutdown(10_000);
      await watcher.next('NOT_SERVING');
      watcher.cancel();
      await assert.rejects(healthStatus(address, ''), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
      release();
      assert.equal((await inFlight).value, 4, 'the in-flight call completes');
      await stopped;
    } finally {
      watcher.cancel();
      client.close();
    }
  });

  it('with a drain delay, answers NOT_SERVING to a new health check and still serves calls until the delay ends', async () => {
    const server = createServer({ logger: pino({ level: 'silent' }), roll: () => 2 });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
    try {
      assert.equal(await healthStatus(address, ''), 'SERVING');
      const stopped = server.shutdown(1000, 600);
      // What the kubelet's gRPC probe sees: a new connection, Check with service "".
      assert.equal(await healthStatus(address, ''), 'NOT_SERVING');
      assert.equal((await roll(client)).value, 2, 'calls are still served during the delay');
      await stopped;
      await assert.rejects(healthStatus(address, ''), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it('sends each connection a GOAWAY at once and closes it only after no call has run for a second, so nginx can finish reading its last response', { timeout: 15_000 }, async () => {
    const { logger, lines } = captureLogger();
    const server = createServer({ logger });
    const port = await server.listen('127.0.0.1', 0);
    const peer = await openPeerConnection(port);
    const lastCallEndedAt = Date.now();
    const stopped = server.shutdown(5000);
    await waitUntil(() => peer.events.goawayAt !== undefined);
    assert.ok((peer.events.goawayAt ?? 0) - lastCallEndedAt < 500, 'the GOAWAY came at once');
    await stopped;
    await waitUntil(() => peer.events.closedAt !== undefined);
    const closedAfter = (peer.events.closedAt ?? 0) - lastCallEndedAt;
    assert.ok(closedAfter >= 1000 && closedAfter < 2500, `closed ${closedAfter} ms after the last call, not at once nor at the end of the grace`);
    assert.deepEqual(lines.filter((line) => /grace period/.test(String(line['msg']))), []);
  });

  it('closes the connection of a call still running once the call ends, within the grace', { timeout: 15_000 }, async () => {
    const { roll: slowRoll, release, callStarted } = gatedRoll();
    const server = createServer({ logger: pino({ level: 'silent' }), roll: slowRoll });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
    try {
      const inFlight = roll(client);
      await callStarted;
      const startedAt = Date.now();
      const stopped = server.shutdown(10_000);
      setTimeout(release, 500);
      assert.equal((await inFlight).value, 4, 'the in-flight call completes');
      await stopped;
      const took = Date.now() - startedAt;
      assert.ok(took >= 1500 && took < 3200, `stopped ${took} ms after the start: the call's 500 ms, then the second without calls`);
    } finally {
      client.close();
    }
  });

  it('cancels calls still running after the grace period', async () => {
    const { roll: slowRoll, release, callStarted } = gatedRoll();
    const server = createServer({ logger: pino({ level: 'silent' }), roll: slowRoll });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    const client = new (loadDiceApi().api.DiceService)(address, grpc.credentials.createInsecure());
    try {
      const stuck = roll(client);
      await callStarted;
      await server.shutdown(100);
      await assert.rejects(stuck, (error: grpc.ServiceError) => error.code === grpc.status.CANCELLED || error.code === grpc.status.UNAVAILABLE);
    } finally {
      release();
      client.close();
    }
  });
});

/**
 * A bare HTTP/2 connection, as nginx keeps one to the server: one health Check on it, then it stays
 * open until the test closes it, and records when it hears a GOAWAY and when the server closes it.
 */
async function openPeerConnection(port: number) {
  const session = connect(`http://127.0.0.1:${port}`);
  const events: { goawayAt?: number; closedAt?: number } = {};
  session.on('goaway', () => (events.goawayAt ??= Date.now()));
  session.on('close', () => (events.closedAt ??= Date.now()));
  session.on('error', () => undefined);
  const call = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
  // A length-prefixed empty HealthCheckRequest: service "".
  call.end(Buffer.alloc(5));
  call.resume();
  const [trailers] = (await once(call, 'trailers')) as [Record<string, string>];
  assert.equal(trailers['grpc-status'], '0');
  return { session, events };
}

describe('createServer: connection lifetime', () => {
  it('sends an idle connection a GOAWAY after maxConnectionIdleMs (a kubelet probe connection does not linger)', { timeout: 5000 }, async () => {
    const server = createServer({ logger: pino({ level: 'silent' }), maxConnectionIdleMs: 300 });
    const port = await server.listen('127.0.0.1', 0);
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const goaway = once(session, 'goaway');
      await once(session, 'connect');
      const startedAt = Date.now();
      await goaway;
      assert.ok(Date.now() - startedAt >= 250, 'not before the idle time');
    } finally {
      session.destroy();
      await server.shutdown(1000);
    }
  });
});
