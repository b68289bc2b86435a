import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { expiryProblem, servedCertificate, watchClientCertificate, watchEdgeCertificate } from './certificate-expiry.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dice-webapp-expiry-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const pki = join(scratch, 'pki');
execFileSync('bash', [join(repoRoot, 'scripts/make-certs.sh')], { env: { ...process.env, CERTS_DIR: pki }, stdio: 'ignore' });
const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
const validity = (fromDaysAgo: number, forDays: number) => {
  const from = Date.now() - fromDaysAgo * 86_400_000;
  return { VALID_FROM: stamp(from), VALID_UNTIL: stamp(from + forDays * 86_400_000) };
};
let issued = 0;

/** A client certificate from the project's scripts that started fromDaysAgo and lasts forDays. */
function clientCertificate(fromDaysAgo: number, forDays: number): { cert: string; key: string } {
  const name = `client-${++issued}`;
  execFileSync('bash', [join(repoRoot, 'scripts/client-cert.sh'), name], { env: { ...process.env, CERTS_DIR: pki, ...validity(fromDaysAgo, forDays) }, stdio: 'ignore' });
  return { cert: join(pki, 'clients', `${name}.pem`), key: join(pki, 'clients', `${name}-key.pem`) };
}

function logLines(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) })) };
}

describe('expiryProblem', () => {
  const day = 86_400_000;
  const validFor = (fromDaysAgo: number, forDays: number) => ({ validFrom: new Date(Date.now() - fromDaysAgo * day).toUTCString(), validTo: new Date(Date.now() + (forDays - fromDaysAgo) * day).toUTCString() });
  it('alarms under a quarter of the lifetime or warnDays, whichever is shorter, and says when it expired', () => {
    assert.match(expiryProblem('the client certificate', validFor(355, 365), 30) ?? '', /^the client certificate expires in 9d23h and has not been renewed/, 'a year-long one 10 days before its end: under warnDays');
    assert.equal(expiryProblem('x', validFor(275, 365), 30), undefined, '90 days left of a year');
    assert.match(expiryProblem('x', validFor(19 / 24, 1), 30) ?? '', /^x expires in (4h5\d|5h00)m/, 'a 24-hour one with 5 hours left: under a quarter');
    assert.equal(expiryProblem('x', validFor(4 / 24, 1), 30), undefined, 'the same, 20 hours left');
    assert.match(expiryProblem('x', validFor(2, 1), 30) ?? '', /^x expired (1d0h|23h59m) ago: the edge refuses every call/);
  });
});

describe('watching the certificates', () => {
  it('reports the client certificate\'s seconds left, and warns once when the alarm starts', async () => {
    const { logger, lines } = logLines();
    const registry = new Registry();
    const soon = clientCertificate(355, 365);
    const watch = watchClientCertificate({ certFile: soon.cert, registry, logger, warnDays: 30 });
    await watch.firstLook;
    watch.stop();
    assert.match(await registry.metrics(), /^dice_webapp_client_certificate_expiry_seconds 86\d{4}$/m);
    assert.match(watch.problem() ?? '', /^the client certificate expires in 9d23h and has not been renewed/);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /"level":40.*the client certificate expires in 9d23h/);

    const fresh = watchClientCertificate({ certFile: clientCertificate(1, 365).cert, registry: new Registry(), logger, warnDays: 30 });
    await fresh.firstLook;
    fresh.stop();
    assert.equal(fresh.problem(), undefined);
    assert.equal(lines.length, 1, 'no warning for a fresh certificate');
  });

  it('sees the certificate the edge serves through a handshake with the client\'s files, and says when it is about to expire', async (t) => {
    // A TLS server standing in for the edge, serving a certificate 5 hours from the end of 24.
    const served = join(scratch, 'served');
    execFileSync('bash', [join(repoRoot, 'scripts/make-certs.sh')], { env: { ...process.env, CERTS_DIR: served, ...validity(19 / 24, 1) }, stdio: 'ignore' });
    const server: Server = createServer({ cert: readFileSync(join(served, 'server.pem')), key: readFileSync(join(served, 'server-key.pem')), ALPNProtocols: ['h2'] }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const target = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const files = { ca: join(served, 'ca.pem'), cert: join(served, 'client.pem'), key: join(served, 'client-key.pem') };

    const seen = await servedCertificate(target, files, 'localhost');
    assert.equal(seen?.validTo, new (await import('node:crypto')).X509Certificate(readFileSync(join(served, 'server.pem'))).validTo);
    const registry = new Registry();
    const { logger, lines } = logLines();
    const watch = watchEdgeCertificate({ target, tlsFiles: files, tlsServerName: 'localhost', registry, logger, warnDays: 30 });
    await watch.firstLook;
    watch.stop();
    assert.match(watch.problem() ?? '', /^the edge's certificate expires in (4h5\d|5h00)m and has not been renewed/);
    assert.match(await registry.metrics(), /^dice_webapp_edge_certificate_expiry_seconds 1\d{4}$/m);
    assert.equal(lines.length, 1);

    // A certificate the client does not trust, or nothing listening: no answer, and no alarm either.
    assert.equal(await servedCertificate(target, { ...files, ca: join(pki, 'ca.pem') }, 'localhost'), undefined);
    assert.equal(await servedCertificate('127.0.0.1:1', files), undefined);
  });
});
