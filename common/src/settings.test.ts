import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './env.ts';
import { choiceSetting, integerSetting, loggingSettings, readSettings, requiredSetting, textSetting } from './settings.ts';

const table = {
  PORT: integerSetting(50051, 1, 65535, 'The port.'),
  MODE: choiceSetting('off', ['on', 'off'] as const, 'A switch.'),
  NAME: textSetting('dice', 'any text', 'A name.'),
  UPPER: textSetting('x', 'any text', 'Parsed.', (text) => text.toUpperCase()),
  CA: requiredSetting('the path of the CA file', 'A file.'),
};

describe('readSettings', () => {
  it('reads every setting of a table by its name, with the defaults for unset or empty ones', () => {
    assert.deepEqual(readSettings(table, { CA: '/ca.pem', MODE: '' }), { PORT: 50051, MODE: 'off', NAME: 'dice', UPPER: 'X', CA: '/ca.pem' });
    assert.deepEqual(readSettings(table, { CA: '/ca.pem', PORT: '8080', MODE: 'on', NAME: 'n', UPPER: 'y' }), { PORT: 8080, MODE: 'on', NAME: 'n', UPPER: 'Y', CA: '/ca.pem' });
  });

  it('stops on the first bad value with one line naming the variable', () => {
    assert.throws(() => readSettings(table, { CA: '/ca.pem', PORT: 'abc' }), (error: unknown) => error instanceof ConfigError && error.message === 'PORT must be a whole number from 1 to 65535, got "abc"');
    assert.throws(() => readSettings(table, { CA: '/ca.pem', MODE: 'yes' }), (error: unknown) => error instanceof ConfigError && error.message === 'MODE must be one of on, off, got "yes"');
    assert.throws(() => readSettings(table, {}), (error: unknown) => error instanceof ConfigError && error.message === 'CA is not set: give it the path of the CA file');
  });

  it('describes each setting for docs/configuration.md', () => {
    assert.deepEqual([table.PORT.defaultText, table.PORT.allowed], ['50051', '1 to 65535']);
    assert.deepEqual([table.MODE.defaultText, table.MODE.allowed], ['off', 'on, off']);
    assert.deepEqual([table.CA.defaultText, table.CA.allowed], [undefined, 'the path of the CA file']);
  });
});

describe('loggingSettings', () => {
  it('reads LOG_BUFFER_BYTES from 0 to 16383, 4096 by default, and names the variable otherwise', () => {
    assert.equal(readSettings(loggingSettings, {}).LOG_BUFFER_BYTES, 4096);
    assert.equal(readSettings(loggingSettings, { LOG_BUFFER_BYTES: '0' }).LOG_BUFFER_BYTES, 0);
    assert.equal(readSettings(loggingSettings, { LOG_BUFFER_BYTES: '16383' }).LOG_BUFFER_BYTES, 16383);
    // pino's destination writes at most 16 KiB at once; a larger buffer would stop it at start-up.
    assert.throws(() => readSettings(loggingSettings, { LOG_BUFFER_BYTES: '65536' }), (error: unknown) => error instanceof ConfigError && /^LOG_BUFFER_BYTES must be a whole number from 0 to 16383/.test(error.message));
  });

  it('reads LOG_LEVEL from pino\'s levels, info by default', () => {
    assert.equal(readSettings(loggingSettings, {}).LOG_LEVEL, 'info');
    assert.throws(() => readSettings(loggingSettings, { LOG_LEVEL: 'loud' }), /^ConfigError: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/);
  });
});
