import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';

describe('startMetricsServer', () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'test_things_total', help: 'things', registers: [registry] });
  let server: MetricsServer;
  before(async () => {
    server = await startMetricsServer(registry, '127.0.0.1', 0);
  });
  after(() => server.close());

  it('serves the registry in the Prometheus text format at GET /metrics', async () => {
    counter.inc(3);
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await response.text(), /^test_things_total 3$/m);
  });

  it('answers 404 elsewhere', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 404);
  });

  it('names host and port when it cannot listen', async () => {
    await assert.rejects(startMetricsServer(registry, '127.0.0.1', server.port), new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${server.port}`));
  });
});
