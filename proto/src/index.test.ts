import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDiceApi, methodPaths } from './index.ts';
import { loaderOptionsAsFlags } from './loader-options.ts';

describe('the wire contract', () => {
  it("keeps the tutorial's method path and message shapes", () => {
    const api = loadDiceApi().api;
    const method = api.DiceService.service.RollDie;
    assert.equal(method.path, methodPaths.rollDie);
    assert.equal(method.path, '/api.DiceService/RollDie');
    assert.equal(method.requestStream, false);
    assert.equal(method.responseStream, false);
    // RollDieResponse { int32 value = 1; }: field 1, varint.
    assert.deepEqual([...method.responseSerialize({ value: 5 })], [0x08, 0x05]);
    assert.deepEqual(method.responseDeserialize(Buffer.from([0x08, 0x03])), { value: 3 });
    assert.equal(method.requestSerialize({}).length, 0);
  });
});

describe('loaderOptionsAsFlags', () => {
  it('turns loader options into proto-loader-gen-types flags', () => {
    assert.deepEqual(loaderOptionsAsFlags({ keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }), [
      '--longs=String',
      '--enums=String',
      '--defaults',
      '--oneofs',
    ]);
  });
});
