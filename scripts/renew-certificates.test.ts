// scripts/renew-certificates.sh (the renewer) and the lifetimes make-certs.sh gives the stack's
// leaves, run for real with openssl into temporary directories.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dice-renew-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function script(name: string, dir: string, env: Record<string, string> = {}, ...args: string[]) {
  return spawnSync('bash', [join(repoRoot, 'scripts', name), ...args], {
    env: { ...process.env, CERTS_DIR: dir, RENEWER_STATUS_FILE: join(dir, '.renewer-status'), ...env },
    encoding: 'utf8',
  });
}
const cert = (dir: string, name: string) => new X509Certificate(readFileSync(join(dir, `${name}.pem`)));
const lifetimeSeconds = (certificate: X509Certificate) => (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 1000;
const secondsLeft = (certificate: X509Certificate) => (Date.parse(certificate.validTo) - Date.now()) / 1000;

describe('short-lived leaves and the renewer', () => {
  it('issues the server and client leaves for CERT_LIFETIME (24 hours by default), a minute back-dated', () => {
    const dir = join(scratch, 'default');
    assert.equal(script('make-certs.sh', dir).status, 0);
    for (const name of ['server', 'client']) assert.equal(lifetimeSeconds(cert(dir, name)), 24 * 3600 + 60, name);
    assert.ok(lifetimeSeconds(cert(dir, 'ca')) > 365 * 86_400, 'the CA keeps its long life');
    const short = join(scratch, 'short');
    assert.equal(script('make-certs.sh', short, { CERT_LIFETIME: '15m' }).status, 0);
    assert.equal(lifetimeSeconds(cert(short, 'server')), 15 * 60 + 60);
    const refused = script('make-certs.sh', join(scratch, 'bad'), { CERT_LIFETIME: '1 day' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /^error: CERT_LIFETIME must be a duration such as 90s, 15m, 24h or 30d, not '1 day'\.$/m);
  });

  it('leaves fresh leaves alone, renews one past its renewal point with the same names, and make certs does too', () => {
    const dir = join(scratch, 'renew');
    assert.equal(script('make-certs.sh', dir, { CERT_LIFETIME: '10m', EDGE_DNS_NAMES: 'dice.example.com' }).status, 0);
    const before = { server: cert(dir, 'server'), client: cert(dir, 'client') };

    const fresh = script('renew-certificates.sh', dir, { CERT_LIFETIME: '10m' }, '--once');
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.equal(cert(dir, 'server').serialNumber, before.server.serialNumber, 'not due: 10 minutes left of 11');

    // Due once less than CERT_RENEW_BEFORE is left; the names come from the certificate, not the environment.
    const renewed = script('renew-certificates.sh', dir, { CERT_LIFETIME: '1h', CERT_RENEW_BEFORE: '20m' }, '--once');
    assert.equal(renewed.status, 0, renewed.stderr);
    assert.match(renewed.stderr, /renewer: renewed server\.pem \(serial [0-9A-F]+\), valid until \S+; the old one had \d+m\d+s left/);
    const after = { server: cert(dir, 'server'), client: cert(dir, 'client') };
    assert.notEqual(after.server.serialNumber, before.server.serialNumber);
    assert.notEqual(after.client.serialNumber, before.client.serialNumber);
    assert.equal(after.server.subjectAltName, 'DNS:nginx, DNS:dice-edge, DNS:localhost, IP Address:127.0.0.1, DNS:dice.example.com');
    assert.equal(after.client.subject, before.client.subject);
    assert.ok(after.server.verify(cert(dir, 'ca').publicKey));
    assert.equal(lifetimeSeconds(after.server), 3600 + 60);
    assert.equal(script('renew-certificates.sh', dir, {}, '--health').status, 0);

    // make certs renews a leaf that is due (the stack was down while it came due).
    const remade = script('make-certs.sh', dir, { CERT_RENEW_BEFORE: '2h' });
    assert.equal(remade.status, 0, remade.stderr);
    assert.match(remade.stderr, /renewing server\.pem from the server CA: (1h00m|59m5\ds) was left/);
    assert.notEqual(cert(dir, 'server').serialNumber, after.server.serialNumber);
  });

  it('says a leaf it cannot renew is expiring, in the log at each check and in its health check once a quarter is left', () => {
    const dir = join(scratch, 'stuck');
    assert.equal(script('make-certs.sh', dir, { CERT_LIFETIME: '4m' }).status, 0);
    renameSync(join(dir, 'ca', 'ca-key.pem'), join(dir, 'ca-key.elsewhere'));
    // Due (20 minutes before the end of a 5-minute certificate) but not yet alarming: said in the log only.
    const due = script('renew-certificates.sh', dir, { CERT_RENEW_BEFORE: '20m' }, '--once');
    assert.equal(due.status, 0, due.stderr);
    assert.match(due.stderr, /\[error\] renewer: server\.pem expires in [34]m\d\ds and could not be renewed: the server CA key is not here to renew it/);
    assert.equal(script('renew-certificates.sh', dir, {}, '--health').status, 0);

    const later = join(scratch, 'stuck-later');
    assert.equal(script('make-certs.sh', later, { VALID_FROM: '20000101000000Z', VALID_UNTIL: new Date(Date.now() + 600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z' }).status, 0);
    assert.ok(secondsLeft(cert(later, 'client')) < 601);
    renameSync(join(later, 'ca', 'ca-key.pem'), join(later, 'ca-key.elsewhere'));
    const alarm = script('renew-certificates.sh', later, {}, '--once');
    assert.equal(alarm.status, 1);
    const health = script('renew-certificates.sh', later, {}, '--health');
    assert.equal(health.status, 1);
    assert.match(health.stdout, /^server\.pem expires in (9m5\d|10m00)s and could not be renewed: the server CA key is not here to renew it \(your own CA: renew it there\)\nclient\.pem expires in (9m5\d|10m00)s/);
  });

  it('refuses durations it cannot read, and a renewal point past the lifetime, in one line', () => {
    const dir = join(scratch, 'default');
    const interval = script('renew-certificates.sh', dir, { CERT_RENEW_INTERVAL: 'often' }, '--once');
    assert.equal(interval.status, 1);
    assert.match(interval.stderr, /^error: CERT_RENEW_INTERVAL must be a duration such as 30s, 1m or 1h, not 'often'\.$/m);
    const before = script('renew-certificates.sh', dir, { CERT_LIFETIME: '1h', CERT_RENEW_BEFORE: '2h' }, '--once');
    assert.equal(before.status, 1);
    assert.match(before.stderr, /^error: CERT_RENEW_BEFORE \(2h\) must be shorter than CERT_LIFETIME \(1h\), or every check would renew\.$/m);
  });
});
