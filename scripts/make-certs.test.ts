// scripts/make-certs.sh, run for real with openssl into temporary directories.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'dice-certs-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function makeCerts(dir: string, extraEnv: Record<string, string> = {}) {
  return spawnSync('bash', [join(repoRoot, 'scripts/make-certs.sh')], { env: { ...process.env, CERTS_DIR: dir, ...extraEnv }, encoding: 'utf8' });
}

const cert = (dir: string, name: string) => new X509Certificate(readFileSync(join(dir, `${name}.pem`)));
const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

describe('make-certs.sh', () => {
  const dir = join(scratch, 'pki');

  it('issues an ECDSA P-256 CA, a server and a client certificate under the tutorial file names', () => {
    const result = makeCerts(dir);
    assert.equal(result.status, 0, result.stderr);
    const ca = cert(dir, 'ca');
    assert.ok(ca.ca, 'ca.pem is a CA');
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

    const server = cert(dir, 'server');
    assert.ok(server.verify(ca.publicKey), 'server.pem is signed by ca.pem');
    assert.equal(server.subjectAltName, 'DNS:nginx, DNS:dice-edge, DNS:localhost, IP Address:127.0.0.1');
    assert.deepEqual(server.keyUsage, [serverAuth]);
    assert.equal(server.ca, false);

    const client = cert(dir, 'client');
    assert.ok(client.verify(ca.publicKey), 'client.pem is signed by ca.pem');
    assert.deepEqual(client.keyUsage, [clientAuth]);
    assert.match(client.subject, /CN=dice-webapp/);

    for (const name of ['server', 'client']) {
      const key = createPrivateKey(readFileSync(join(dir, `${name}-key.pem`)));
      assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.ok(cert(dir, name).checkPrivateKey(key), `${name}-key.pem belongs to ${name}.pem`);
    }
  });

  it('writes private keys with mode 0600 and keeps the CA key apart', () => {
    for (const key of ['server-key.pem', 'client-key.pem', 'ca/ca-key.pem']) {
      assert.equal(statSync(join(dir, key)).mode & 0o777, 0o600, `${key} mode`);
    }
    assert.throws(() => statSync(join(dir, 'ca-key.pem')), 'no CA key next to the mounted files');
  });

  it('keeps existing files on a second run, and re-issues everything with FORCE=1', () => {
    const before = ['ca', 'server', 'client'].map((name) => cert(dir, name).serialNumber);
    assert.equal(makeCerts(dir).status, 0);
    assert.deepEqual(['ca', 'server', 'client'].map((name) => cert(dir, name).serialNumber), before);
    assert.equal(makeCerts(dir, { FORCE: '1' }).status, 0);
    const after = ['ca', 'server', 'client'].map((name) => cert(dir, name).serialNumber);
    after.forEach((serial, i) => assert.notEqual(serial, before[i]));
  });

  it('re-issues a missing leaf from the existing CA', () => {
    const caSerial = cert(dir, 'ca').serialNumber;
    unlinkSync(join(dir, 'client.pem'));
    assert.equal(makeCerts(dir).status, 0);
    assert.equal(cert(dir, 'ca').serialNumber, caSerial);
    assert.ok(cert(dir, 'client').verify(cert(dir, 'ca').publicKey));
  });

  it('never replaces the certificates of your own CA, and says what is missing', () => {
    const own = join(scratch, 'own');
    cpSync(dir, own, { recursive: true });
    rmSync(join(own, 'ca'), { recursive: true });
    assert.equal(makeCerts(own).status, 0, 'a complete set without the CA key is accepted as is');
    unlinkSync(join(own, 'client.pem'));
    const result = makeCerts(own);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /client\.pem is missing and the CA key .* is not here/);
    unlinkSync(join(own, 'ca.pem'));
    assert.match(makeCerts(own).stderr, /has server\.pem but no ca\.pem/);
  });
});

describe('client-cert.sh and revoke.sh', () => {
  const dir = join(scratch, 'clients-pki');
  const script = (name: string, args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync('bash', [join(repoRoot, 'scripts', name), ...args], { env: { ...process.env, CERTS_DIR: dir, ...extraEnv }, encoding: 'utf8' });
  const crlSerials = () => spawnSync('openssl', ['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text'], { encoding: 'utf8' }).stdout.match(/Serial Number: (\w+)/g) ?? [];

  it('make-certs.sh signs an empty CRL for nginx', () => {
    assert.equal(makeCerts(dir).status, 0);
    assert.equal(statSync(join(dir, 'crl.pem')).mode & 0o777, 0o644);
    assert.deepEqual(crlSerials(), []);
  });

  it('issues a clientAuth certificate with CN=NAME from the project CA, and will not overwrite it', () => {
    const result = script('client-cert.sh', ['alice']);
    assert.equal(result.status, 0, result.stderr);
    const alice = cert(join(dir, 'clients'), 'alice');
    assert.ok(alice.verify(cert(dir, 'ca').publicKey));
    assert.match(alice.subject, /CN=alice/);
    assert.deepEqual(alice.keyUsage, [clientAuth]);
    assert.equal(statSync(join(dir, 'clients', 'alice-key.pem')).mode & 0o777, 0o600);
    const again = script('client-cert.sh', ['alice']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /alice\.pem exists: replace it with FORCE=1/);
  });

  it('refuses a NAME that is not a plain name, saying what is allowed', () => {
    const result = script('client-cert.sh', ['../evil']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /NAME must be 1-64 letters, digits, dots, dashes or underscores/);
  });

  it('issues test certificates with given validity dates', () => {
    assert.equal(script('client-cert.sh', ['old'], { VALID_FROM: '20200101000000Z', VALID_UNTIL: '20210101000000Z' }).status, 0);
    const old = cert(join(dir, 'clients'), 'old');
    assert.equal(new Date(old.validTo).toISOString(), '2021-01-01T00:00:00.000Z');
  });

  it('revokes by name: the serial lands in a re-signed CRL; revoking twice is fine', () => {
    const serial = cert(join(dir, 'clients'), 'alice').serialNumber;
    const result = script('revoke.sh', ['alice']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(crlSerials(), [`Serial Number: ${serial}`]);
    assert.equal(script('revoke.sh', ['alice']).status, 0);
    assert.deepEqual(crlSerials(), [`Serial Number: ${serial}`]);
    const unknown = script('revoke.sh', ['nobody']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /No certificate for 'nobody'/);
  });
});

describe('rotate-certs.sh', () => {
  const dir = join(scratch, 'rotate');
  const rotate = (extraEnv: Record<string, string> = {}) => spawnSync('bash', [join(repoRoot, 'scripts/rotate-certs.sh')], { env: { ...process.env, CERTS_DIR: dir, ...extraEnv }, encoding: 'utf8' });

  it('replaces both leaves and their keys in place, from the same CA', () => {
    assert.equal(makeCerts(dir).status, 0);
    const files = ['server.pem', 'server-key.pem', 'client.pem', 'client-key.pem'];
    const before = Object.fromEntries(files.map((file) => [file, { inode: statSync(join(dir, file)).ino, text: readFileSync(join(dir, file), 'utf8') }]));
    const caBefore = readFileSync(join(dir, 'ca.pem'), 'utf8');

    // A cluster's external name for the edge (LoadBalancer or passthrough Route) joins the usual ones.
    const result = rotate({ EDGE_DNS_NAMES: 'dice-edge-dice.apps.example.com' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr + result.stdout, /rotated in .*same CA/);
    assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), caBefore, 'the CA stays');
    const ca = cert(dir, 'ca');
    for (const file of files) {
      assert.notEqual(readFileSync(join(dir, file), 'utf8'), before[file]?.text, `${file} is new`);
      assert.equal(statSync(join(dir, file)).ino, before[file]?.inode, `${file} written in place, so bind mounts see it`);
    }
    for (const name of ['server', 'client']) {
      assert.ok(cert(dir, name).verify(ca.publicKey), `${name}.pem is signed by the same CA`);
      assert.ok(cert(dir, name).checkPrivateKey(createPrivateKey(readFileSync(join(dir, `${name}-key.pem`)))), `${name}-key.pem matches`);
      assert.equal(statSync(join(dir, `${name}-key.pem`)).mode & 0o777, 0o600);
    }
    assert.equal(cert(dir, 'server').subjectAltName, 'DNS:nginx, DNS:dice-edge, DNS:localhost, IP Address:127.0.0.1, DNS:dice-edge-dice.apps.example.com');
    assert.match(cert(dir, 'client').subject, /CN=dice-webapp/);
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('.rotate')), [], 'no staging left behind');
  });

  it('says to run make certs first when there is nothing to rotate', () => {
    const result = spawnSync('bash', [join(repoRoot, 'scripts/rotate-certs.sh')], { env: { ...process.env, CERTS_DIR: join(scratch, 'empty') }, encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /run make certs first/);
  });
});

describe('make-certs.sh TWO_CAS=1: a client CA apart from the server CA, the set k8s-secrets.sh takes', () => {
  const dir = join(scratch, 'two-cas');
  const script = (name: string, args: string[] = [], extraEnv: Record<string, string> = {}) => spawnSync('bash', [join(repoRoot, 'scripts', name), ...args], { env: { ...process.env, CERTS_DIR: dir, ...extraEnv }, encoding: 'utf8' });
  const crlIssuer = (file: string): string => spawnSync('openssl', ['crl', '-in', join(dir, file), '-noout', '-issuer'], { encoding: 'utf8' }).stdout.trim();

  it('signs the server certificate with the server CA and client certificates with the client CA, each CA with its CRL', () => {
    const result = makeCerts(dir, { TWO_CAS: '1' });
    assert.equal(result.status, 0, result.stderr);
    const serverCa = cert(dir, 'ca');
    const clientCa = cert(dir, 'client-ca');
    assert.match(serverCa.subject, /CN=Dice Servers CA/);
    assert.match(clientCa.subject, /CN=Dice Clients CA/);
    assert.ok(cert(dir, 'server').verify(serverCa.publicKey) && !cert(dir, 'server').verify(clientCa.publicKey), 'server.pem from the server CA only');
    assert.ok(cert(dir, 'client').verify(clientCa.publicKey) && !cert(dir, 'client').verify(serverCa.publicKey), 'client.pem from the client CA only');
    assert.match(crlIssuer('crl.pem'), /CN ?= ?Dice Clients CA/, 'crl.pem, the one the edge checks, is the client CA\'s');
    assert.match(crlIssuer('server-crl.pem'), /CN ?= ?Dice Servers CA/);
    assert.equal(statSync(join(dir, 'client-ca', 'ca-key.pem')).mode & 0o777, 0o600);
  });

  it('issues, revokes and rotates from the right CA, and k8s-secrets.sh takes the directory as it is', () => {
    assert.equal(script('client-cert.sh', ['outside']).status, 0);
    assert.ok(cert(join(dir, 'clients'), 'outside').verify(cert(dir, 'client-ca').publicKey), 'an outside client from the client CA');
    assert.equal(script('client-cert.sh', ['wrong-ca'], { ISSUER: 'server' }).status, 0);
    assert.ok(cert(join(dir, 'clients'), 'wrong-ca').verify(cert(dir, 'ca').publicKey), 'ISSUER=server: a test certificate the edge must refuse');
    assert.equal(script('revoke.sh', ['outside']).status, 0);
    const serial = cert(join(dir, 'clients'), 'outside').serialNumber;
    assert.match(spawnSync('openssl', ['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text'], { encoding: 'utf8' }).stdout, new RegExp(serial, 'i'), 'revoked in the client CA\'s CRL');
    assert.equal(script('rotate-certs.sh').status, 0);
    assert.ok(cert(dir, 'server').verify(cert(dir, 'ca').publicKey) && cert(dir, 'client').verify(cert(dir, 'client-ca').publicKey), 'rotated leaves keep their CAs');
    const out = join(scratch, 'two-cas-secrets.yaml');
    const secrets = script('k8s-secrets.sh', [], { OUT: out });
    assert.equal(secrets.status, 0, secrets.stderr);
    const secretsWritten = parseAllDocuments(readFileSync(out, 'utf8')).map((document) => document.toJS() as { metadata: { name: string }; data: Record<string, string> });
    const dataOf = (secret: string, key: string): string => Buffer.from(secretsWritten.find((written) => written.metadata.name === secret)?.data[key] ?? '', 'base64').toString();
    assert.equal(dataOf('dice-client-ca', 'ca.crt'), readFileSync(join(dir, 'client-ca.pem'), 'utf8'), 'the edge trusts the client CA');
    assert.equal(dataOf('dice-webapp-tls', 'ca.crt'), readFileSync(join(dir, 'ca.pem'), 'utf8'), 'the web app trusts the server CA');
  });

  it('k8s-secrets.sh CERT_MANAGER=1 hands cert-manager each CA\'s key pair in its namespace, and the leaves\' Secrets are left to it', () => {
    const out = join(scratch, 'cert-manager-secrets.yaml');
    const secrets = script('k8s-secrets.sh', [], { OUT: out, CERT_MANAGER: '1' });
    assert.equal(secrets.status, 0, secrets.stderr);
    const written = parseAllDocuments(readFileSync(out, 'utf8')).map((document) => document.toJS() as { type?: string; metadata: { name: string; namespace?: string }; data: Record<string, string> });
    assert.deepEqual(written.map((secret) => `${secret.metadata.namespace ?? ''}/${secret.metadata.name}`), ['cert-manager/dice-server-ca-keypair', 'cert-manager/dice-client-ca-keypair', '/dice-client-ca', '/dice-edge-token']);
    const dataOf = (secret: string, key: string): string => Buffer.from(written.find((each) => each.metadata.name === secret)?.data[key] ?? '', 'base64').toString();
    assert.equal(dataOf('dice-server-ca-keypair', 'tls.crt'), readFileSync(join(dir, 'ca.pem'), 'utf8'));
    assert.equal(dataOf('dice-server-ca-keypair', 'tls.key'), readFileSync(join(dir, 'ca', 'ca-key.pem'), 'utf8'));
    assert.equal(dataOf('dice-client-ca-keypair', 'tls.crt'), readFileSync(join(dir, 'client-ca.pem'), 'utf8'));
    assert.equal(dataOf('dice-client-ca-keypair', 'tls.key'), readFileSync(join(dir, 'client-ca', 'ca-key.pem'), 'utf8'));
    assert.equal(dataOf('dice-client-ca', 'crl.pem'), readFileSync(join(dir, 'crl.pem'), 'utf8'), 'the CRL the edge checks');
  });
});
