import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { build } from './testing/build-app.ts';
import { fakeDice } from './testing/fake-dice.ts';
import { createWebappMetrics, watchCertificateExpiry } from './metrics.ts';
import { certificateDaysLeft } from './tls-files.ts';


const scratch = mkdtempSync(join(tmpdir(), 'dice-webapp-metrics-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function certificateValidFor(days: number): string {
  const file = join(scratch, `cert-${days}.pem`);
  const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=dice-webapp', '-days', String(days)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  writeFileSync(file, pem);
  return file;
}

describe('web app metrics', () => {
  it('counts HTTP requests by route pattern and status, and dice calls by method and gRPC code', async (t) => {
    const registry = new Registry();
    const metrics = createWebappMetrics(registry);
    const app = build(t, { dice: fakeDice({ roll: async () => ({ value: 4 }) }), metrics });
    await app.inject({ method: 'GET', url: '/api/roll' });
    await app.inject({ method: 'GET', url: '/api/roll' });
    await app.inject({ method: 'GET', url: '/no/such/page' });
    metrics.observeDiceCall('/api.DiceService/RollDie', 'OK', 0.003);
    metrics.observeDiceCall('/api.DiceService/RollDie', 'UNAVAILABLE', 0.2);
    metrics.observeDiceCall('/api.DiceService/RollDice', 'OK', 1.5);
    const text = await registry.metrics();
    assert.match(text, /^dice_webapp_http_requests_total\{method="GET",route="\/api\/roll",status_code="200"\} 2$/m);
    assert.match(text, /^dice_webapp_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m);
    assert.match(text, /^dice_webapp_http_request_duration_seconds_count\{method="GET",route="\/api\/roll"\} 2$/m);
    assert.match(text, /^dice_webapp_grpc_client_calls_total\{method="\/api.DiceService\/RollDie",code="UNAVAILABLE"\} 1$/m);
    assert.match(text, /^dice_webapp_grpc_client_call_duration_seconds_count\{method="\/api.DiceService\/RollDie",code="OK"\} 1$/m);
    assert.match(text, /^dice_webapp_grpc_client_calls_total\{method="\/api.DiceService\/RollDice",code="OK"\} 1$/m);
  });

  it('reports the days left on the client certificate, and warns under the threshold', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    const soon = certificateValidFor(10);
    assert.ok([9, 10].includes(certificateDaysLeft(soon) ?? NaN));
    const registry = new Registry();
    const stop = watchCertificateExpiry({ certFile: soon, registry, logger, warnDays: 30 });
    stop();
    assert.match(await registry.metrics(), /^dice_webapp_client_certificate_expiry_days (9|10)$/m);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /the client certificate expires soon/);

    lines.length = 0;
    watchCertificateExpiry({ certFile: certificateValidFor(90), registry: new Registry(), logger, warnDays: 30 })();
    assert.equal(lines.length, 0, 'no warning with 90 days left');
  });
});
