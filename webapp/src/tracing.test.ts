import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const tracing = fileURLToPath(new URL('./tracing.ts', import.meta.url));
/** Node with the web app's tracing module loaded first, as the image starts it, running nothing after it. */
const preload = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', tracing, '--eval', ''], { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env }, encoding: 'utf8', timeout: 20_000 });

describe('webapp tracing module', () => {
  it('stops with one clear line when OTEL_NODE_ENABLED_INSTRUMENTATIONS names an instrumentation the web app does not have', () => {
    const result = preload({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express' });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), 'webapp: configuration error: OTEL_NODE_ENABLED_INSTRUMENTATIONS names express, which this service does not have: it has http, fastify, grpc, pino');
  });

  it('starts with every instrumentation it has, and with the setting ignored when tracing is off', () => {
    const on = preload({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,fastify,grpc,pino' });
    assert.deepEqual([on.status, on.stderr], [0, '']);
    const off = preload({ OTEL_SDK_DISABLED: 'true', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'express' });
    assert.deepEqual([off.status, off.stderr], [0, '']);
  });
});
