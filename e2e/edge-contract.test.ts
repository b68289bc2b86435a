// The edge's error contract (docs/error-contract.md): every way a call can be refused or
// fail, asserted by the exact gRPC status that grpc-js and Python's grpcio each report, against
// the real images. Runs its own stack with its own throwaway PKI, a small rate limit, a short
// upstream timeout and an access policy.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { edgeClient, rollDie } from './support/edge-client.ts';
import { containerLogs, docker, waitFor, waitUntilHealthy } from './support/docker.ts';
import { clients, probeWithGrpcJs, pythonHandshake, type CallOutcome, type ProbeOptions } from './support/grpc-probe.ts';
import { issuePki } from './support/pki.ts';
import { repoRoot, startStack, type Stack } from './support/stack.ts';

const run = promisify(execFile);
// The project PKI with the clients the rows need, and one from another CA. Short-lived
// certificates are made here, for the rows about validity; never committed.
const pki = issuePki({
  clients: [
    'alice', 'mallory', 'flooder', 'eve',
    // Known to the edge by a URI SAN only (a SPIFFE id), and one whose SANs the policy does not name.
    { name: 'roller', env: { SAN: 'URI:spiffe://dice.example/ns/dice/sa/roller' } },
    { name: 'intruder', env: { SAN: 'URI:spiffe://dice.example/ns/other/sa/intruder,DNS:intruder.dice.internal' } },
    { name: 'expired', env: { VALID_FROM: '20200101000000Z', VALID_UNTIL: '20210101000000Z' } }, { name: 'not-yet-valid', env: { VALID_FROM: '20990101000000Z', VALID_UNTIL: '20991231000000Z' } }],
});
const otherPki = issuePki();

// Small enough to trip in a test, large enough for the handful of calls the other rows make.
const rateLimit = { EDGE_RATE_LIMIT: '20r/s', EDGE_RATE_BURST: '100' };
const stackEnv = {
  CERTS_DIR: pki.dir,
  ...rateLimit,
  EDGE_MAX_REQUEST_SIZE: '16k',
  EDGE_UPSTREAM_TIMEOUT: '2s',
  // Two lines of authorization. The edge's, by any of the certificate's identities, lets mallory
  // through so the server's own check (its ACCESS_POLICY, by CN) is seen refusing her; eve and
  // intruder are refused by the edge. "*=*": other services are open, so unknown ones stay UNIMPLEMENTED.
  EDGE_ACCESS_POLICY: 'api.DiceService/*=cn:dice-webapp,cn:alice,cn:flooder,cn:mallory,uri:spiffe://dice.example/ns/dice/sa/roller;*=*',
  ACCESS_POLICY: 'api.DiceService/RollDie=dice-webapp,alice,flooder,roller',
};

/**
 * A client certificate from the test CA with a subject of the test's choosing (client-cert.sh takes a
 * name only): for the subject the edge's CN shortcut must not be fooled by.
 */
async function issueWithSubject(name: string, subject: string): Promise<{ ca: string; cert: string; key: string }> {
  const [key, csr, cert, extensions] = ['key.pem', 'csr.pem', 'pem', 'ext'].map((suffix) => join(pki.dir, 'clients', `${name}.${suffix}`)) as [string, string, string, string];
  writeFileSync(extensions, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', subject, '-out', csr]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', pki.ca, '-CAkey', join(pki.dir, 'ca', 'ca-key.pem'), '-set_serial', `0x${Date.now().toString(16)}`, '-days', '1', '-extfile', extensions, '-out', cert]);
  return { ca: pki.ca, cert, key };
}

/** Runs a script or make target of this repository against the test PKI and stack. */
async function repo(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await run(command, args, { cwd: repoRoot, env: { ...process.env, CERTS_DIR: pki.dir, ...extraEnv } });
  return stdout + stderr;
}

describe('the edge speaks gRPC for every failure (grpc-js and Python grpcio)', { timeout: 20 * 60_000 }, () => {
  let stack: Stack;
  const as = (name: string): ProbeOptions => ({ address: stack.edgeAddress, ...pki.client(name) });
  const asWebapp = (): ProbeOptions => ({ address: stack.edgeAddress, ...pki.webapp });

  /** Both clients make the call; each must end with exactly `code` and a message matching `details`. */
  async function expectStatus(options: ProbeOptions, code: string, details: RegExp): Promise<void> {
    for (const [client, probe] of Object.entries(clients)) {
      const outcomes: CallOutcome[] = await probe(options);
      for (const outcome of outcomes) {
        assert.equal(outcome.code, code, `${client}: ${JSON.stringify(outcome)}`);
        assert.match(outcome.details, details, `${client}: ${outcome.details}`);
      }
    }
  }

  /** The edge logged both clients' refusals with the identity, sent none upstream, and the server saw none. */
  async function expectRefusedAtEdge(requestId: string, identity: string): Promise<void> {
    const lines = await waitFor('the edge to log both refused calls', 10_000, async () => {
      const found = (await containerLogs(stack.container('nginx').getId())).split('\n').filter((line) => line.includes(`"request_id":"${requestId}"`)).map((line) => JSON.parse(line) as Record<string, unknown>);
      return found.length >= 2 ? found : undefined;
    });
    for (const line of lines) {
      assert.equal(line['grpc_status'], '7');
      assert.equal(line['upstream_addr'], '', 'no backend was asked');
      assert.ok(String(line['access_refusal']).includes(identity), JSON.stringify(line));
    }
    assert.ok(!(await containerLogs(stack.container('server').getId())).includes(requestId), 'the server never saw the call');
  }

  before(async () => {
    stack = await startStack({ env: stackEnv });
  });

  after(async () => {
    await stack?.down();
    pki.remove();
    otherPki.remove();
  });

  it('lets a valid, allowed client certificate in (both clients)', async () => {
    await expectStatus(asWebapp(), 'OK', /^$/);
    await expectStatus(as('alice'), 'OK', /^$/);
  });

  it('no client certificate: UNAUTHENTICATED', async () => {
    await expectStatus({ address: stack.edgeAddress, ca: pki.ca }, 'UNAUTHENTICATED', /^no client certificate: present a certificate issued by the project CA/);
  });

  it('a client certificate from another CA: UNAUTHENTICATED', async () => {
    await expectStatus({ ...asWebapp(), cert: otherPki.webapp.cert, key: otherPki.webapp.key }, 'UNAUTHENTICATED', /^client certificate rejected \(unable to verify the first certificate\)/);
  });

  it('an expired client certificate: UNAUTHENTICATED', async () => {
    await expectStatus(as('expired'), 'UNAUTHENTICATED', /^client certificate rejected \(certificate has expired\)/);
  });

  it('a client certificate that is not yet valid: UNAUTHENTICATED', async () => {
    await expectStatus(as('not-yet-valid'), 'UNAUTHENTICATED', /^client certificate rejected \(certificate is not yet valid/);
  });

  it('a certificate without the clientAuth EKU (the server certificate): UNAUTHENTICATED', async () => {
    await expectStatus({ ...asWebapp(), cert: pki.server.cert, key: pki.server.key }, 'UNAUTHENTICATED', /^client certificate rejected \(unsuitable certificate purpose\)/);
  });

  it('a valid certificate the edge access policy allows by its URI SAN alone (a SPIFFE id): in', async () => {
    await expectStatus(as('roller'), 'OK', /^$/);
  });

  it('a valid certificate whose CN the edge access policy does not allow: PERMISSION_DENIED from the edge, nothing reaches the server', async () => {
    await expectStatus({ ...as('eve'), metadata: { 'x-request-id': 'refused-at-edge-by-cn' } }, 'PERMISSION_DENIED', /^client cn:eve may not call \/api\.DiceService\/RollDie: ask for one of its identities to be added to the edge's EDGE_ACCESS_POLICY$/);
    await expectRefusedAtEdge('refused-at-edge-by-cn', 'client cn:eve may not call /api.DiceService/RollDie');
  });

  it('a valid certificate whose URI and DNS SANs the edge access policy does not allow: PERMISSION_DENIED from the edge, naming them', async () => {
    await expectStatus({ ...as('intruder'), metadata: { 'x-request-id': 'refused-at-edge-by-san' } }, 'PERMISSION_DENIED', /^client cn:intruder, uri:spiffe:\/\/dice\.example\/ns\/other\/sa\/intruder, dns:intruder\.dice\.internal may not call \/api\.DiceService\/RollDie: /);
    await expectRefusedAtEdge('refused-at-edge-by-san', 'uri:spiffe://dice.example/ns/other/sa/intruder');
  });

  it('a certificate whose organisation holds ",CN=alice" is not taken for alice by the edge\'s CN shortcut: PERMISSION_DENIED naming its real CN', async () => {
    const spoof = await issueWithSubject('spoof', '/O=x,CN=alice/CN=spoof');
    await expectStatus({ address: stack.edgeAddress, ...spoof }, 'PERMISSION_DENIED', /^client cn:spoof may not call \/api\.DiceService\/RollDie: /);
  });

  it('a valid certificate the edge lets through but whose CN the server\'s access policy does not allow: PERMISSION_DENIED from the server', async () => {
    await expectStatus(as('mallory'), 'PERMISSION_DENIED', /^client "mallory" may not call \/api\.DiceService\/RollDie/);
  });

  it('forged identity metadata is replaced by nginx: the server sees the real certificate', async () => {
    // mallory claims to be alice in every header the edge forwards; the policy would let alice in.
    const alicePem = readFileSync(pki.client('alice').cert, 'utf8');
    const forged = { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-s-dn': 'CN=alice,O=Dice Stack', 'x-ssl-client-cert': encodeURIComponent(alicePem), 'x-ssl-client-sha1': 'forged', 'x-request-id': 'forged-identity' };
    await expectStatus({ ...as('mallory'), metadata: forged }, 'PERMISSION_DENIED', /^client "mallory" may not call/);
    // The server writes its log a chunk at a time, within a second: wait for both clients' lines.
    const refused = await waitFor('the server to log both refused calls', 10_000, async () => {
      const serverLog = await containerLogs(stack.container('server').getId());
      const found = serverLog.split('\n').filter((line) => line.includes('"requestId":"forged-identity"')).map((line) => JSON.parse(line) as { code: string; client?: { commonName: string; subject: string } });
      return found.length >= 2 ? found : undefined;
    });
    for (const line of refused) {
      assert.equal(line.code, 'PERMISSION_DENIED');
      assert.equal(line.client?.commonName, 'mallory');
      assert.equal(line.client?.subject, 'CN=mallory,O=Dice Stack');
    }
  });

  it('an unknown service or method: UNIMPLEMENTED', async () => {
    await expectStatus({ ...asWebapp(), method: '/api.Casino/Spin' }, 'UNIMPLEMENTED', /^unknown service: this endpoint serves api\.DiceService/);
    await expectStatus({ ...asWebapp(), method: '/api.DiceService/Cheat' }, 'UNIMPLEMENTED', /Cheat/);
  });

  it('a request message over the size limit: RESOURCE_EXHAUSTED, while one under it passes', async () => {
    await expectStatus({ ...asWebapp(), payloadBytes: 15_000 }, 'OK', /^$/);
    await expectStatus({ ...asWebapp(), payloadBytes: 64_000 }, 'RESOURCE_EXHAUSTED', /^request message larger than the edge accepts \(16k\)/);
  });

  it('over the rate limit for this client certificate: RESOURCE_EXHAUSTED, other certificates unaffected', async () => {
    for (const [client, probe] of Object.entries(clients)) {
      // Far more calls at once than the burst allows, from one certificate.
      const outcomes = await probe({ ...as('flooder'), count: 400 });
      const limited = outcomes.filter((o) => o.code === 'RESOURCE_EXHAUSTED');
      assert.ok(limited.length > 0, `${client}: some calls are limited (${JSON.stringify(countCodes(outcomes))})`);
      assert.deepEqual(Object.keys(countCodes(outcomes)).sort(), ['OK', 'RESOURCE_EXHAUSTED'], `${client}: nothing else (${JSON.stringify(countCodes(outcomes))})`);
      assert.match(limited[0]?.details ?? '', /^rate limit exceeded for this client certificate/);
      // Same address, different certificate: the limit is per certificate, not per IP.
      const [other] = await probeWithGrpcJs(as('alice'));
      assert.equal(other?.code, 'OK', `alice is not limited right after ${client}'s flood`);
    }
  });

  it('a revoked client certificate: UNAUTHENTICATED after make revoke, without dropping other clients', async () => {
    await expectStatus(as('alice'), 'OK', /^$/);
    // A channel with the web app's certificate stays open across the reload (configured as the
    // docs/operations.md says, so a call racing the old worker's GOAWAY is retried).
    const client = edgeClient(stack.edgeAddress, pki.webapp, { retries: 'policy' });
    try {
      assert.ok((await rollDie(client)) >= 1);
      const output = await repo('make', ['--no-print-directory', 'revoke', 'NAME=alice'], { COMPOSE_PROJECT_NAME: stack.projectName, ...stackEnv });
      assert.match(output, /revoked alice/);
      assert.match(output, /nginx reloaded/);
      // A reload starts new workers and retires the old ones, which may still accept a connection
      // for a moment: wait until several new connections in a row are refused.
      await waitFor('nginx to refuse alice on every new connection', 10_000, async () => {
        for (let i = 0; i < 5; i++) if ((await probeWithGrpcJs(as('alice')))[0]?.code !== 'UNAUTHENTICATED') return undefined;
        return true;
      });
      await expectStatus(as('alice'), 'UNAUTHENTICATED', /^client certificate rejected \(certificate revoked\)/);
      for (let i = 0; i < 5; i++) assert.ok((await rollDie(client)) >= 1, 'the existing channel keeps working');
      await expectStatus(asWebapp(), 'OK', /^$/);
    } finally {
      client.close();
    }
  });

  it('the server slower than the edge upstream timeout: DEADLINE_EXCEEDED', async () => {
    const server = stack.container('server').getId();
    await docker('pause', server);
    try {
      await expectStatus({ ...asWebapp(), deadlineMs: 20_000 }, 'DEADLINE_EXCEEDED', /^the dice backend did not answer within the edge's upstream timeout \(2s\)/);
    } finally {
      await docker('unpause', server);
    }
  });

  it('the server down: UNAVAILABLE', async () => {
    const server = stack.container('server').getId();
    await docker('stop', server);
    try {
      await expectStatus({ ...asWebapp(), deadlineMs: 20_000 }, 'UNAVAILABLE', /^the dice backend is unavailable/);
    } finally {
      await docker('start', server);
      await waitUntilHealthy('the server to be healthy again', server);
    }
  });

  it('plain HTTP/1.1 or a non-gRPC request on 9443: a plain answer from the edge, nothing from the server', async () => {
    const tls = { ca: readFileSync(pki.ca), cert: readFileSync(pki.webapp.cert), key: readFileSync(pki.webapp.key), servername: 'localhost' };
    const [host, port] = stack.edgeAddress.split(':');
    const http1 = await new Promise<{ status: number; body: string; grpcStatus: unknown }>((resolve, reject) => {
      const request = httpsRequest({ host, port, path: '/api.DiceService/RollDie', method: 'POST', ...tls, headers: { 'content-type': 'application/grpc' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, grpcStatus: response.headers['grpc-status'] }));
      });
      request.on('error', reject);
      request.end();
    });
    assert.equal(http1.status, 415);
    assert.equal(http1.grpcStatus, undefined);
    assert.match(http1.body, /^This port speaks gRPC only/);

    const session = http2Connect(`https://${stack.edgeAddress}`, tls);
    try {
      const http2Get = await new Promise<{ status: unknown; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/api.DiceService/RollDie', ':method': 'GET' });
        let status: unknown;
        let body = '';
        stream.on('response', (headers) => (status = headers[':status']));
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end();
      });
      assert.equal(http2Get.status, 415);
      assert.match(http2Get.body, /^This port speaks gRPC only/);
    } finally {
      session.close();
    }

    const plain = await fetch(`http://${stack.edgeAddress}/`);
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /This port speaks TLS with client certificates/);

    // The access log is buffered: its lines arrive within a second.
    const edgeAnswers = await waitFor('the access-log lines of both 415 answers', 10_000, async () => {
      const log = await containerLogs(stack.container('nginx').getId());
      const found = log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry['http_status'] === 415);
      return found.length >= 2 ? found : undefined;
    });
    for (const entry of edgeAnswers) assert.equal(entry['upstream_addr'], '', 'nothing was forwarded to the server');
  });

  it('runs with the settings the EDGE_* variables asked for, as make edge-config shows them (nginx -T)', async () => {
    const config = await repo('make', ['--no-print-directory', 'edge-config'], { ...stackEnv, COMPOSE_PROJECT_NAME: stack.projectName, WEBAPP_PUBLISH: '127.0.0.1:', NGINX_PUBLISH: '127.0.0.1:' });
    assert.match(config, /^limit_req_zone \$ssl_client_fingerprint zone=per_client_certificate:10m rate=20r\/s;$/m);
    assert.match(config, /^limit_req zone=per_client_certificate burst=100 nodelay;$/m);
    assert.match(config, /^client_max_body_size 16k;$/m);
    assert.match(config, /^grpc_read_timeout 2s;$/m);
    assert.match(config, /^grpc_send_timeout 2s;$/m);
    assert.match(config, /^keepalive_requests 100000;$/m);
    assert.match(config, /^server server:50051 resolve;$/m);
    assert.match(config, /^resolver 127\.0\.0\.11 valid=5s ipv6=off;$/m, "Docker's DNS, read from the container's resolv.conf");
    assert.match(config, /^ssl_verify_client on;$/m);
    assert.match(config, /^ssl_verify_depth 2;$/m);
    // The edge token is a secret: the printout names the header, never the value.
    assert.match(config, /^grpc_set_header x-dice-edge-token "\(hidden: the secret in EDGE_TOKEN_FILE\)";$/m);
    assert.ok(!config.includes(readFileSync(join(pki.dir, 'edge-token'), 'utf8').trim()), 'the token itself is not printed');
  });

  it('resumes TLS sessions (1.2 and 1.3) from the session cache', async () => {
    const port = Number(stack.edgeAddress.split(':')[1]);
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const handshake = (session?: Buffer) =>
        new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
          const options = { host: '127.0.0.1', port, minVersion: version, maxVersion: version, ca: readFileSync(pki.ca), servername: 'localhost', ...(session ? { session } : {}) };
          const socket = tlsConnect(options);
          let saved: Buffer | undefined;
          socket.on('session', (value: Buffer) => (saved = value));
          socket.once('secureConnect', () => {
            // TLS 1.3 sends the session after the handshake; give it a moment to arrive.
            setTimeout(() => {
              resolve({ reused: socket.isSessionReused(), session: saved ?? socket.getSession() });
              socket.destroy();
            }, 200);
          });
          socket.on('error', reject);
        });
      const first = await handshake();
      assert.equal(first.reused, false);
      assert.ok(first.session, `${version}: a session to resume`);
      assert.equal((await handshake(first.session)).reused, true, `${version}: the second handshake resumes`);
    }
  });

  it('a TLS 1.0 or 1.1 handshake: refused at the handshake, while 1.2 and 1.3 complete', async () => {
    for (const version of ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const) {
      const outcome = await new Promise<string>((resolve) => {
        // The client allows old versions (SECLEVEL=0), so only the server can refuse them.
        const socket = tlsConnect({ host: '127.0.0.1', port: Number(stack.edgeAddress.split(':')[1]), minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0', rejectUnauthorized: false }, () => {
          resolve(`ok ${socket.getProtocol()}`);
          socket.destroy();
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(`refused ${error.code}`));
      });
      if (version === 'TLSv1' || version === 'TLSv1.1') assert.equal(outcome, 'refused ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', `Node ${version}`);
      else assert.equal(outcome, `ok ${version}`, `Node ${version}`);
    }
    for (const version of ['TLSv1', 'TLSv1_1'] as const) {
      const { handshake, error } = await pythonHandshake(stack.edgeAddress, version);
      assert.equal(handshake, 'refused', `Python ${version}`);
      assert.match(error, /TLSV1_ALERT_PROTOCOL_VERSION/);
    }
    for (const version of ['TLSv1_2', 'TLSv1_3'] as const) assert.equal((await pythonHandshake(stack.edgeAddress, version)).handshake, 'ok', `Python ${version}`);
  });
});

function countCodes(outcomes: CallOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { code } of outcomes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}
