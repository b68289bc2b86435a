import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { build } from './testing/build-app.ts';
import { fakeDice } from './testing/fake-dice.ts';
import { createWebappMetrics, watchCertificateExpiry } from './metrics.ts';
import { certificateTimeLeft } from './tls-files.ts';


const scratch = mkdtempSync(join(tmpdir(), 'dice-webapp-metrics-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const pki = join(scratch, 'pki');
execFileSync('bash', [join(repoRoot, 'scripts/make-certs.sh')], { env: { ...process.env, CERTS_DIR: pki }, stdio: 'ignore' });
let issued = 0;

/** A client certificate from the project's scripts that started fromDaysAgo and lasts forDays. */
function certificate({ fromDaysAgo, forDays }: { fromDaysAgo: number; forDays: number }): string {
  const name = `client-${++issued}`;
  const from = Date.now() - fromDaysAgo * 86_400_000;
  const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  execFileSync('bash', [join(repoRoot, 'scripts/client-cert.sh'), name], { env: { ...process.env, CERTS_DIR: pki, VALID_FROM: stamp(from), VALID_UNTIL: stamp(from + forDays * 86_400_000) }, stdio: 'ignore' });
  return join(pki, 'clients', `${name}.pem`);
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

  it('reports the seconds left on the client certificate; warns, and tells /healthz, under a quarter of its lifetime or warnDays', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    // A year-long certificate 10 days from its end: under warnDays (30), far from a quarter.
    const soon = certificate({ fromDaysAgo: 355, forDays: 365 });
    const left = certificateTimeLeft(soon)?.secondsLeft ?? NaN;
    assert.ok(Math.abs(left - 10 * 86_400) < 120, `${left} s left`);
    const registry = new Registry();
    const watch = watchCertificateExpiry({ certFile: soon, registry, logger, warnDays: 30 });
    watch.stop();
    assert.match(await registry.metrics(), /^dice_webapp_client_certificate_expiry_seconds 86\d{4}$/m);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /the client certificate expires in 9d23h and has not been renewed/);
    assert.match(watch.problem() ?? '', /^the client certificate expires in 9d23h/);

    // A 24-hour certificate with 5 hours left: under a quarter (6 h), though far under warnDays too.
    lines.length = 0;
    const shortLived = watchCertificateExpiry({ certFile: certificate({ fromDaysAgo: 19 / 24, forDays: 1 }), registry: new Registry(), logger, warnDays: 30 });
    shortLived.stop();
    assert.match(shortLived.problem() ?? '', /expires in 4h5\dm and has not been renewed/);

    // The same certificate fresh (20 hours left), and a year-long one with 90 days left: no alarm.
    lines.length = 0;
    for (const fresh of [certificate({ fromDaysAgo: 4 / 24, forDays: 1 }), certificate({ fromDaysAgo: 275, forDays: 365 })]) {
      const watch = watchCertificateExpiry({ certFile: fresh, registry: new Registry(), logger, warnDays: 30 });
      watch.stop();
      assert.equal(watch.problem(), undefined);
    }
    assert.equal(lines.length, 0, 'no warning for a fresh certificate');

    const expired = watchCertificateExpiry({ certFile: certificate({ fromDaysAgo: 2, forDays: 1 }), registry: new Registry(), logger, warnDays: 30 });
    expired.stop();
    assert.match(expired.problem() ?? '', /^the client certificate expired 1d0h ago: the edge refuses every call/);
  });
});
