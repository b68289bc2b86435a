// End to end against the real images: docker-compose.yml built fresh and started with
// Testcontainers. Run with `make e2e` (it prepares .env and the certificates first).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import { containerLogs, docker, inspect, waitFor, waitUntilHealthy } from './support/docker.ts';
import { callServerDirectly } from './support/direct-call.ts';
import { edgeClient, rollDie, type ClientIdentity } from './support/edge-client.ts';
import { tutorialClientRolls } from './support/python-clients.ts';
import { certsDir, startStack, type Stack } from './support/stack.ts';

const dieFaces = ['⚀', '⚁', '⚂', '⚃', '⚄', '⚅'];
const unavailableSentence = 'The dice service is unavailable, try again shortly';

const projectClient: ClientIdentity = { ca: `${certsDir}/ca.pem`, cert: `${certsDir}/client.pem`, key: `${certsDir}/client-key.pem` };

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

describe('the stack, end to end', { timeout: 20 * 60_000 }, () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
  });

  after(async () => {
    await stack?.down();
  });

  it('ships an nginx configuration that nginx -t accepts', async () => {
    const result = await stack.container('nginx').exec(['nginx', '-t']);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.output, /syntax is ok/);
    assert.match(result.output, /test is successful/);
  });

  it('shows a rolled die on the web page', async () => {
    const response = await fetch(`${stack.webappUrl}/`);
    assert.equal(response.status, 200);
    const html = await response.text();
    const face = dieFaces.find((f) => html.includes(f));
    assert.ok(face, 'the page shows a die face');
    const value = Number(/data-testid="value">(\d)</.exec(html)?.[1]);
    assert.equal(dieFaces[value - 1], face, 'the number matches the face');
  });

  it('rolls 1..6 over 300 calls to /api/roll, every face appearing', async () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const response = await fetch(`${stack.webappUrl}/api/roll`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { value: number };
      assert.deepEqual(Object.keys(body), ['value', 'replica']);
      assert.ok(Number.isInteger(body.value) && body.value >= 1 && body.value <= 6, `out of range: ${body.value}`);
      counts.set(body.value, (counts.get(body.value) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), [1, 2, 3, 4, 5, 6], `faces seen: ${JSON.stringify([...counts])}`);
  });

  it('answers a grpc-js client with the project client certificate through nginx', async () => {
    const client = edgeClient(stack.edgeAddress, projectClient);
    try {
      for (let i = 0; i < 20; i++) {
        const value = await rollDie(client);
        assert.ok(value >= 1 && value <= 6, `out of range: ${value}`);
      }
    } finally {
      client.close();
    }
  });

  it("answers the original tutorial's Python grpcio client, unchanged", async () => {
    // Stubs generated from our api.proto exactly as the tutorial did (grpc_tools.protoc).
    const values = tutorialClientRolls(stack.edgeAddress, { ca: projectClient.ca, cert: projectClient.cert ?? '', key: projectClient.key ?? '' }, 30);
    assert.equal(values.length, 30);
    for (const value of values) assert.ok(Number.isInteger(value) && value >= 1 && value <= 6, `out of range: ${value}`);
  });

  it('refuses a forged identity sent straight to the server port (UNAUTHENTICATED, logged with its peer); the same certificate through the edge is served', async () => {
    // What any pod that reaches port 50051 could send: the headers nginx sets, with a real client
    // certificate (certificates are not secret), without the edge's token, or with a guessed one.
    const requestId = `forged-${Date.now()}`;
    const claims = {
      [metadataKeys.clientVerify]: 'SUCCESS',
      [metadataKeys.clientSubject]: 'CN=dice-webapp,O=Dice Stack',
      [metadataKeys.clientCertificate]: encodeURIComponent(readFileSync(projectClient.cert ?? '', 'utf8')),
      [metadataKeys.requestId]: requestId,
    };
    const server = stack.container('server').getId();
    for (const forged of [claims, { ...claims, [metadataKeys.edgeToken]: 'f'.repeat(64) }]) {
      const outcome = await callServerDirectly(server, 'server:50051', forged);
      assert.equal(outcome.code, status.UNAUTHENTICATED, JSON.stringify(outcome));
      assert.match(outcome.details, /^the call did not come through the edge \(it carries no valid edge token\), so the client identity it names is not believed: call through the TLS edge \(nginx\) with a client certificate$/);
    }
    // The server writes its log a chunk at a time, within a second: wait for both lines.
    const refused = await waitFor('both refused calls in the server log', 10_000, async () => {
      const lines = (await stack.logs(server, { stream: 'stdout' })).split('\n').filter((line) => line.includes(requestId));
      return lines.length >= 2 ? lines.map((line) => JSON.parse(line) as { code: string; peer: string }) : undefined;
    });
    assert.equal(refused.length, 2, 'both refused calls logged, once each');
    for (const line of refused) {
      assert.equal(line.code, 'UNAUTHENTICATED');
      assert.match(line.peer, /^(\[?(::ffff:)?[\d.]+\]?|\[[0-9a-f:]+\]):\d+$/, `the peer that called: ${line.peer}`);
    }
    const client = edgeClient(stack.edgeAddress, projectClient);
    try {
      const value = await rollDie(client);
      assert.ok(value >= 1 && value <= 6, 'the same certificate through the edge is served');
    } finally {
      client.close();
    }
  });

  it('keeps the server out of reach of the webapp: different networks, no route', async () => {
    const webapp = stack.container('webapp');
    const serverId = stack.container('server').getId();
    const serverIps = Object.values(JSON.parse(await inspect(serverId, '{{json .NetworkSettings.Networks}}')) as Record<string, { IPAddress: string }>).map((n) => n.IPAddress);
    assert.ok(serverIps.length > 0);
    const probe = (host: string) =>
      webapp.exec(['node', '-e', `const s = require('node:net').connect({ host: '${host}', port: 50051, timeout: 3000 }); s.on('connect', () => { console.log('connected'); process.exit(0); }); s.on('timeout', () => { console.log('timeout'); process.exit(2); }); s.on('error', (e) => { console.log(e.code); process.exit(2); });`]);
    const byName = await probe('server');
    assert.equal(byName.exitCode, 2, byName.output);
    assert.match(byName.output, /ENOTFOUND|EAI_AGAIN/, 'the name "server" does not even resolve for the webapp');
    for (const ip of serverIps) {
      const byAddress = await probe(ip);
      assert.equal(byAddress.exitCode, 2, `the webapp connected to the server at ${ip}`);
      assert.match(byAddress.output, /timeout|EHOSTUNREACH|ENETUNREACH|ECONNREFUSED/);
    }
    // nginx, on both networks, does reach it: the probe itself works.
    const fromNginx = await stack.container('nginx').exec(['bash', '-c', ': >/dev/tcp/server/50051']);
    assert.equal(fromNginx.exitCode, 0, fromNginx.output);
  });

  it('runs every container unprivileged: non-root, read-only root filesystem, no capabilities, no new privileges', async () => {
    for (const service of ['server', 'nginx', 'webapp'] as const) {
      const container = stack.container(service);
      const config = JSON.parse(await inspect(container.getId(), '{{json .HostConfig}}')) as { ReadonlyRootfs: boolean; CapDrop: string[] | null; CapAdd: string[] | null; SecurityOpt: string[] | null; Privileged: boolean };
      assert.equal(config.ReadonlyRootfs, true, `${service}: read-only root filesystem`);
      assert.deepEqual(config.CapDrop, ['ALL'], `${service}: drops all capabilities`);
      assert.ok(!config.CapAdd || config.CapAdd.length === 0, `${service}: adds none back`);
      assert.equal(config.Privileged, false);
      assert.ok(config.SecurityOpt?.includes('no-new-privileges:true'), `${service}: no-new-privileges`);
      const id = await container.exec(['id', '-u']);
      assert.notEqual(id.output.trim(), '0', `${service} runs as uid ${id.output.trim()}`);
      const write = await container.exec(['sh', '-c', 'touch /should-not-exist']);
      assert.notEqual(write.exitCode, 0, `${service}: the root filesystem is not writable`);
      assert.match(write.output, /Read-only file system/);
      const status = await container.exec(['sh', '-c', 'grep ^CapEff /proc/1/status']);
      assert.match(status.output, /CapEff:\s+0+$/m, `${service}: the main process has no effective capabilities`);
    }
  });

  it('does not expose the server port on the host', async () => {
    const server = stack.container('server');
    const ports = JSON.parse(await inspect(server.getId(), '{{json .NetworkSettings.Ports}}')) as Record<string, unknown[] | null>;
    const published = Object.entries(ports).filter(([, bindings]) => bindings && bindings.length > 0);
    assert.deepEqual(published, [], 'the server publishes no port');
    assert.equal(await canConnect(50051), false, 'nothing answers on localhost:50051');
  });

  it("logs each call in nginx's access log with the client certificate subject", async () => {
    const client = edgeClient(stack.edgeAddress, projectClient);
    try {
      await rollDie(client);
    } finally {
      client.close();
    }
    const entries = await waitFor('a RollDie entry in the nginx access log', 10_000, async () => {
      const lines = (await containerLogs(stack.container('nginx').getId())).split('\n').filter((line) => line.startsWith('{'));
      const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const calls = parsed.filter((entry) => entry['grpc_method'] === '/api.DiceService/RollDie' && entry['client_subject'] === 'CN=dice-webapp,O=Dice Stack');
      return calls.length > 0 ? calls : undefined;
    });
    const last = entries.at(-1);
    assert.equal(last?.['client_verify'], 'SUCCESS');
    assert.equal(last?.['grpc_status'], '0');
    assert.equal(last?.['http_status'], 200);
  });

  it('answers 503 with the sentence while the server is stopped, and recovers without a webapp restart', async () => {
    const server = stack.container('server').getId();
    const webapp = stack.container('webapp').getId();
    const webappStartedAt = await inspect(webapp, '{{.State.StartedAt}}');

    await docker('stop', server);
    const down = await waitFor('/ to answer 503', 20_000, async () => {
      const response = await fetch(`${stack.webappUrl}/`);
      return response.status === 503 ? response : undefined;
    });
    assert.ok((await down.text()).includes(unavailableSentence));
    const api = await fetch(`${stack.webappUrl}/api/roll`);
    assert.equal(api.status, 503);
    const body = (await api.json()) as { error: string; grpcCode: string };
    assert.equal(body.error, unavailableSentence);
    // UNAVAILABLE once nginx knows the server is gone; DEADLINE_EXCEEDED while it still tries the old address.
    assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(body.grpcCode), `grpcCode ${body.grpcCode}`);

    await docker('start', server);
    await waitUntilHealthy('the server to be healthy again', server);
    const up = await waitFor('/ to answer 200 again', 30_000, async () => {
      const response = await fetch(`${stack.webappUrl}/`);
      return response.status === 200 ? response : undefined;
    });
    const page = await up.text();
    assert.ok(dieFaces.some((face) => page.includes(face)), 'the page shows a die again');
    assert.equal(await inspect(webapp, '{{.State.StartedAt}}'), webappStartedAt, 'the webapp was not restarted');
    assert.equal(await inspect(webapp, '{{.RestartCount}}'), '0');
  });

  it('carries one request id from the browser through nginx to the server, in all three logs', async () => {
    const requestId = `e2e-${Date.now()}`;
    const response = await fetch(`${stack.webappUrl}/api/roll`, { headers: { 'x-request-id': requestId } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), requestId);
    const logLine = (service: 'webapp' | 'nginx' | 'server') =>
      waitFor(`${service} to log ${requestId}`, 10_000, async () => {
        const lines = (await containerLogs(stack.container(service).getId())).split('\n').filter((line) => line.startsWith('{'));
        return lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry['requestId'] === requestId || entry['request_id'] === requestId);
      });
    assert.equal((await logLine('webapp'))['requestId'], requestId);
    const edge = await logLine('nginx');
    assert.equal(edge['grpc_method'], '/api.DiceService/RollDie');
    const server = await logLine('server');
    assert.equal(server['method'], '/api.DiceService/RollDie');
    assert.equal((server['client'] as Record<string, unknown>)['commonName'], 'dice-webapp');
  });

  it('exposes Prometheus metrics on a port of their own, unpublished, with counts that follow the calls', async () => {
    const scrape = async (service: 'server' | 'webapp') => {
      const result = await stack.container(service).exec(['node', '-e', "fetch('http://127.0.0.1:9464/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
      assert.equal(result.exitCode, 0, result.output);
      return result.output;
    };
    const value = (text: string, series: string) => Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? 0);
    const serverOk = 'dice_server_rpcs_total{method="/api.DiceService/RollDie",code="OK"}';
    const httpOk = 'dice_webapp_http_requests_total{method="GET",route="/api/roll",status_code="200"}';
    const grpcOk = 'dice_webapp_grpc_client_calls_total{method="/api.DiceService/RollDie",code="OK"}';
    const [serverBefore, webappBefore] = [await scrape('server'), await scrape('webapp')];
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${stack.webappUrl}/api/roll`)).status, 200);
    const [serverAfter, webappAfter] = [await scrape('server'), await scrape('webapp')];
    assert.equal(value(serverAfter, serverOk) - value(serverBefore, serverOk), 5);
    assert.equal(value(webappAfter, httpOk) - value(webappBefore, httpOk), 5);
    assert.equal(value(webappAfter, grpcOk) - value(webappBefore, grpcOk), 5);
    assert.match(serverAfter, /dice_server_rpc_duration_seconds_bucket\{le="0.005",method="\/api.DiceService\/RollDie",code="OK"\}/);
    const secondsLeft = value(webappAfter, 'dice_webapp_client_certificate_expiry_seconds');
    const expected = (Date.parse(new X509Certificate(readFileSync(join(certsDir, 'client.pem'))).validTo) - Date.now()) / 1000;
    assert.ok(Math.abs(secondsLeft - expected) < 60, `client certificate seconds left: ${secondsLeft}, the file says ${expected}`);
    for (const service of ['server', 'webapp'] as const) {
      const ports = JSON.parse(await inspect(stack.container(service).getId(), '{{json .NetworkSettings.Ports}}')) as Record<string, unknown[] | null>;
      assert.ok(!Object.entries(ports).some(([port, bindings]) => port.startsWith('9464') && bindings && bindings.length > 0), `${service} does not publish 9464`);
    }
  });

  it('scales to 3 server replicas without restarting nginx: 300 calls reach all 3, the page names the replica', async () => {
    const nginx = stack.container('nginx').getId();
    const nginxStartedAt = await inspect(nginx, '{{.State.StartedAt}}');
    await stack.scale(3);
    const replicas = (await stack.compose('ps', '--quiet', 'server')).trim().split('\n');
    assert.equal(replicas.length, 3);
    const hostnames = new Set(await Promise.all(replicas.map((id) => inspect(id, '{{.Config.Hostname}}'))));

    const client = edgeClient(stack.edgeAddress, projectClient);
    const replicaOf = () =>
      new Promise<string>((resolve, reject) => {
        const call = client.RollDie({}, { deadline: Date.now() + 5000 }, (error) => error && reject(error));
        call.on('metadata', (headers) => resolve(String(headers.get('x-dice-replica')[0])));
      });
    try {
      // nginx re-resolves the service name every 5 s (resolver valid=5s): wait for the new replicas.
      await waitFor('nginx to send calls to all 3 replicas', 30_000, async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 30; i++) seen.add(await replicaOf());
        return seen.size === 3 ? true : undefined;
      });
      const counts = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const replica = await replicaOf();
        counts.set(replica, (counts.get(replica) ?? 0) + 1);
      }
      assert.deepEqual(new Set(counts.keys()), hostnames, `calls per replica: ${JSON.stringify([...counts])}`);
      for (const [replica, count] of counts) assert.ok(count >= 30, `replica ${replica} got only ${count} of 300 calls`);
    } finally {
      client.close();
    }
    const page = await (await fetch(`${stack.webappUrl}/`)).text();
    const shown = /data-testid="replica">([^<]+)</.exec(page)?.[1];
    assert.ok(shown && hostnames.has(shown), `the page names a replica (${shown})`);
    assert.equal(await inspect(nginx, '{{.State.StartedAt}}'), nginxStartedAt, 'nginx was not restarted');
  });
});
