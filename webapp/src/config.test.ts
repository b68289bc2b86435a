import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@dice/common';
import { loadWebappConfig } from './config.ts';

const tls = { TLS_CA_FILE: '/certs/ca.pem', TLS_CERT_FILE: '/certs/client.pem', TLS_KEY_FILE: '/certs/client-key.pem' };

describe('loadWebappConfig', () => {
  it('has defaults that fit the compose stack', () => {
    const config = loadWebappConfig(tls);
    assert.equal(config.port, 8000);
    assert.equal(config.diceTarget, 'nginx:9443');
    assert.equal(config.tlsServerName, undefined);
    assert.equal(config.benchRoutes, false);
    assert.deepEqual(config.tlsFiles, { ca: '/certs/ca.pem', cert: '/certs/client.pem', key: '/certs/client-key.pem' });
  });

  it('stops on a bad port with a line naming PORT', () => {
    assert.throws(() => loadWebappConfig({ ...tls, PORT: 'abc' }), (error: unknown) => error instanceof ConfigError && /^PORT must be/.test(error.message));
  });

  it('turns the benchmark routes on only for BENCH_ROUTES=on, and names the variable otherwise', () => {
    assert.equal(loadWebappConfig({ ...tls, BENCH_ROUTES: 'on' }).benchRoutes, true);
    assert.throws(() => loadWebappConfig({ ...tls, BENCH_ROUTES: 'yes' }), (error: unknown) => error instanceof ConfigError && /^BENCH_ROUTES must be one of on, off/.test(error.message));
  });

  it('reads the HTTP timeouts, and names a bad one', () => {
    assert.deepEqual(loadWebappConfig(tls).httpTimeouts, { connectionTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 72_000 });
    assert.equal(loadWebappConfig({ ...tls, HTTP_REQUEST_TIMEOUT_MS: '5000' }).httpTimeouts.requestTimeoutMs, 5000);
    assert.throws(() => loadWebappConfig({ ...tls, HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' }), (error: unknown) => error instanceof ConfigError && /^HTTP_KEEP_ALIVE_TIMEOUT_MS must be/.test(error.message));
  });

  it('requires the client certificate files', () => {
    assert.throws(() => loadWebappConfig({ TLS_CA_FILE: '/ca.pem', TLS_KEY_FILE: '/k.pem' }), /TLS_CERT_FILE is not set/);
  });
});
