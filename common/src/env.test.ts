import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, readChoice, readInteger, readRequired, readString } from './env.ts';

describe('readInteger', () => {
  it('uses the fallback when the variable is unset or empty', () => {
    assert.equal(readInteger({}, 'PORT', 50051, 1, 65535), 50051);
    assert.equal(readInteger({ PORT: '' }, 'PORT', 50051, 1, 65535), 50051);
  });
  it('reads a whole number in range', () => {
    assert.equal(readInteger({ PORT: ' 8080 ' }, 'PORT', 1, 1, 65535), 8080);
  });
  for (const bad of ['abc', '12abc', '-1', '1.5', '0', '70000', '0x10']) {
    it(`refuses "${bad}" with a line naming the variable`, () => {
      assert.throws(() => readInteger({ PORT: bad }, 'PORT', 1, 1, 65535), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^PORT must be a whole number from 1 to 65535, got "/);
        return true;
      });
    });
  }
});

describe('readChoice', () => {
  it('accepts a listed value and refuses others', () => {
    assert.equal(readChoice({ LOG_LEVEL: 'debug' }, 'LOG_LEVEL', 'info', ['info', 'debug']), 'debug');
    assert.throws(() => readChoice({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'info', ['info', 'debug']), /LOG_LEVEL must be one of info, debug, got "loud"/);
  });
});

describe('readString and readRequired', () => {
  it('falls back or refuses when missing', () => {
    assert.equal(readString({}, 'HOST', '0.0.0.0'), '0.0.0.0');
    assert.equal(readRequired({ CA: '/x' }, 'CA', 'a path'), '/x');
    assert.throws(() => readRequired({}, 'CA', 'the path of the CA file'), /^ConfigError: CA is not set: give it the path of the CA file$/);
  });
});
