import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@dice/common';
import { parseAccessPolicy } from './access-policy.ts';

describe('parseAccessPolicy', () => {
  it('is undefined when empty: every verified client may call', () => {
    assert.equal(parseAccessPolicy(''), undefined);
    assert.equal(parseAccessPolicy(' ; '), undefined);
  });

  it('allows the listed CNs for a method and refuses others', () => {
    const policy = parseAccessPolicy('api.DiceService/RollDie=dice-webapp, alice');
    assert.ok(policy);
    assert.equal(policy('/api.DiceService/RollDie', 'alice'), true);
    assert.equal(policy('/api.DiceService/RollDie', 'dice-webapp'), true);
    assert.equal(policy('/api.DiceService/RollDie', 'mallory'), false);
    assert.equal(policy('/api.DiceService/Other', 'alice'), false, 'a method no rule names is refused');
  });

  it('lets the most specific rule decide: method, then service/*, then *', () => {
    const policy = parseAccessPolicy('*=admin; api.DiceService/*=ops; api.DiceService/RollDie=alice');
    assert.ok(policy);
    assert.equal(policy('/api.DiceService/RollDie', 'alice'), true);
    assert.equal(policy('/api.DiceService/RollDie', 'ops'), false);
    assert.equal(policy('/api.DiceService/Other', 'ops'), true);
    assert.equal(policy('/other.Service/Call', 'admin'), true);
    assert.equal(policy('/other.Service/Call', 'ops'), false);
  });

  for (const bad of ['RollDie', 'api.DiceService/RollDie=', 'api.DiceService/RollDie=a=b', 'api.DiceService/RollDie=bad name', '/api.DiceService/RollDie=alice']) {
    it(`stops on "${bad}" with a line naming ACCESS_POLICY`, () => {
      assert.throws(() => parseAccessPolicy(bad), (error: unknown) => error instanceof ConfigError && error.message.startsWith('ACCESS_POLICY rule'));
    });
  }

  it('stops when a method is named twice', () => {
    assert.throws(() => parseAccessPolicy('*=a;*=b'), /ACCESS_POLICY names \* twice/);
  });
});
