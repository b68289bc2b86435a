import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi } from '@dice/proto';
import { createDiceChannel, DiceCallError } from './dice-channel.ts';

/** A plaintext DiceService that records the peer (client address:port) of every call. */
async function startRecordingServer(answer: (callback: grpc.sendUnaryData<{ value: number }>) => void) {
  const peers: string[] = [];
  const server = new grpc.Server();
  server.addService(loadDiceApi().api.DiceService.service, {
    RollDie(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ value: number }>) {
      peers.push(call.getPeer());
      answer(callback);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { peers, port, stop: () => server.forceShutdown() };
}

describe('dice client', () => {
  let backend: Awaited<ReturnType<typeof startRecordingServer>>;
  before(async () => {
    backend = await startRecordingServer((callback) => callback(null, { value: 2 }));
  });
  after(() => backend.stop());

  it('reuses one connection for every call', async () => {
    const dice = createDiceChannel({ target: `127.0.0.1:${backend.port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 2000 });
    try {
      for (let i = 0; i < 25; i++) assert.equal((await dice.roll()).value, 2);
      assert.equal(new Set(backend.peers).size, 1, `calls came over ${new Set(backend.peers).size} connections`);
    } finally {
      dice.close();
    }
  });

  it('sends the request id as x-request-id and reads the replica from the response headers', async () => {
    let seen: unknown;
    const server = new grpc.Server();
    server.addService(loadDiceApi().api.DiceService.service, {
      RollDie(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ value: number }>) {
        seen = call.metadata.get('x-request-id')[0];
        const headers = new grpc.Metadata();
        headers.set('x-dice-replica', 'replica-b');
        call.sendMetadata(headers);
        callback(null, { value: 5 });
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    const dice = createDiceChannel({ target: `127.0.0.1:${port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 2000 });
    try {
      assert.deepEqual(await dice.roll({ requestId: 'abc-1' }), { value: 5, replica: 'replica-b' });
      assert.equal(seen, 'abc-1');
    } finally {
      dice.close();
      server.forceShutdown();
    }
  });

  it('retries a call that found no server (UNAVAILABLE), within the deadline', async () => {
    let calls = 0;
    const flaky = await startRecordingServer((callback) => (++calls === 1 ? callback({ code: grpc.status.UNAVAILABLE, details: 'draining' }) : callback(null, { value: 3 })));
    const dice = createDiceChannel({ target: `127.0.0.1:${flaky.port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 2000 });
    try {
      assert.equal((await dice.roll()).value, 3);
      assert.equal(calls, 2);
    } finally {
      dice.close();
      flaky.stop();
    }
  });

  it('gives up at the deadline with DEADLINE_EXCEEDED', async () => {
    const silent = await startRecordingServer(() => {});
    const dice = createDiceChannel({ target: `127.0.0.1:${silent.port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 150 });
    try {
      await assert.rejects(dice.roll(), (error: unknown) => error instanceof DiceCallError && error.code === grpc.status.DEADLINE_EXCEEDED);
    } finally {
      dice.close();
      silent.stop();
    }
  });

  it('reports UNAVAILABLE when nothing listens', async () => {
    const gone = await startRecordingServer(() => {});
    gone.stop();
    const dice = createDiceChannel({ target: `127.0.0.1:${gone.port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 2000 });
    try {
      await assert.rejects(dice.roll(), (error: unknown) => error instanceof DiceCallError && error.codeName === 'UNAVAILABLE');
    } finally {
      dice.close();
    }
  });

  it('refuses an impossible roll from the service', async () => {
    const liar = await startRecordingServer((callback) => callback(null, { value: 7 }));
    const dice = createDiceChannel({ target: `127.0.0.1:${liar.port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 2000 });
    try {
      await assert.rejects(dice.roll(), (error: unknown) => error instanceof DiceCallError && error.code === grpc.status.INTERNAL);
    } finally {
      dice.close();
      liar.stop();
    }
  });
});
