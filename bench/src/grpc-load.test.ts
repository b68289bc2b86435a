import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi } from '@dice/proto';
import { runGrpcLoad, share } from './grpc-load.ts';

describe('share', () => {
  it('splits a count into near-equal whole parts', () => {
    assert.deepEqual(share(7, 3), [3, 2, 2]);
    assert.deepEqual(share(2, 2), [1, 1]);
  });
});

describe('runGrpcLoad against an in-process h2c server', () => {
  let server: grpc.Server;
  let port: number;
  let served = 0;
  const peers = new Set<string>();

  before(async () => {
    server = new grpc.Server();
    server.addService(loadDiceApi().api.DiceService.service, {
      RollDie(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ value: number }>) {
        peers.add(call.getPeer());
        // Every fifth call fails, so error counting by code is visible.
        if (++served % 5 === 0) callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'test' });
        else setTimeout(() => callback(null, { value: 3 }), 2);
      },
    });
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  });
  after(() => server.forceShutdown());

  it('counts calls, errors by code and latency over its threads and connections', async () => {
    const result = await runGrpcLoad({ target: `127.0.0.1:${port}`, mode: 'shared', concurrency: 8, connections: 4, durationMs: 600, warmupMs: 100, threads: 2 });
    assert.ok(result.calls > 100, `only ${result.calls} calls`);
    const failed = result.errors['RESOURCE_EXHAUSTED'] ?? 0;
    assert.ok(failed > result.calls / 8 && failed < result.calls / 3, `${failed} of ${result.calls} failed; about a fifth should`);
    assert.ok(result.p50 >= 2 && result.p50 <= result.p99, `p50 ${result.p50} ms, p99 ${result.p99} ms`);
    assert.ok(result.callsPerSecond > 0 && result.loadToolCpuSeconds > 0);
    assert.equal(peers.size, 4, 'four connections');
  });

  it('opens a connection per call in connection-per-call mode', async () => {
    peers.clear();
    const result = await runGrpcLoad({ target: `127.0.0.1:${port}`, mode: 'connection-per-call', concurrency: 2, connections: 1, durationMs: 300, warmupMs: 0, threads: 1 });
    assert.ok(result.calls > 10);
    assert.ok(peers.size >= result.calls * 0.9, `${peers.size} connections for ${result.calls} calls`);
  });
});
