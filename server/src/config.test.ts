import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@dice/common';
import { loadServerConfig } from './config.ts';

describe('loadServerConfig', () => {
  it('listens on 50051 by default', () => {
    assert.deepEqual(loadServerConfig({}), { host: '0.0.0.0', port: 50051, shutdownGraceMs: 10_000, drainDelayMs: 0, logLevel: 'info', logBufferBytes: 4096, accessPolicy: undefined, edgeTokenFile: '/run/secrets/edge-token', metricsPort: 9464, maxConnectionIdleMs: 300_000, maxConnectionAgeMs: 1_800_000, streamIdleMs: 50_000, maxMessageBytes: 65_536 });
  });
  it('reads ACCESS_POLICY, and stops on a malformed one naming it', () => {
    const policy = loadServerConfig({ ACCESS_POLICY: 'api.DiceService/RollDie=alice' }).accessPolicy;
    assert.equal(policy?.('/api.DiceService/RollDie', 'alice'), true);
    assert.throws(() => loadServerConfig({ ACCESS_POLICY: 'nonsense' }), (error: unknown) => error instanceof ConfigError && /^ACCESS_POLICY rule "nonsense" must look like/.test(error.message));
  });
  it('stops on PORT=abc with one line naming PORT', () => {
    assert.throws(() => loadServerConfig({ PORT: 'abc' }), (error: unknown) => error instanceof ConfigError && error.message === 'PORT must be a whole number from 1 to 65535, got "abc"');
  });
});
