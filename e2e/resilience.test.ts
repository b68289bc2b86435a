// Zero failed calls while the stack is operated: a steady load through nginx with a client
// certificate runs during a replica restart, nginx reloads and a certificate rotation, and 10,000
// calls go over one channel. Its own stack with two server replicas and a throwaway PKI (the
// rotation rewrites the certificates). Run alone with `make e2e-resilience`; `make test` runs it too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import { callServerDirectly } from './support/direct-call.ts';
import { containerLogs, docker, inspect, waitFor, waitForLog, waitUntilHealthy } from './support/docker.ts';
import { edgeCertificateSha256, sha256Of } from './support/edge-certificate.ts';
import { callsOnOneChannel, rollThroughWebapp, underSteadyLoad, type LoadReport, type SteadyLoadOptions, type WebappRolls } from './support/steady-load.ts';
import { issuePki, type Pki } from './support/pki.ts';
import { repoRoot, startStack, type Stack } from './support/stack.ts';

const callsPerSecond = 300;
const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** nginx access-log entries for calls made with the given client certificate CN. */
async function edgeEntries(stack: Stack, commonName: string): Promise<{ connection: number; connection_requests: number; grpc_status: string; request_id: string }[]> {
  const logs = await containerLogs(stack.container('nginx').getId());
  return logs
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(`CN=${commonName}`))
    .map((line) => JSON.parse(line) as { connection: number; connection_requests: number; grpc_status: string; request_id: string });
}

/** Every call succeeded; if not, the message carries the evidence (each failure has its x-request-id). */
function assertNoFailures(report: LoadReport, minimumCalls: number, evidence = ''): void {
  assert.ok(report.total >= minimumCalls, `only ${report.total} calls were made; the load did not run as planned`);
  assert.deepEqual(Object.keys(report.byCode), ['OK'], `calls ended with ${JSON.stringify(report.byCode)}; first failures: ${report.failures.join(' | ')}${evidence}`);
}

/**
 * What the edge and a server said around a failed call, for the assertion message: the failed calls'
 * access-log lines (by request id), nginx's error-log lines, and the replica's shutdown lines.
 */
async function failureEvidence(stack: Stack, report: LoadReport, replica?: string): Promise<string> {
  if (Object.keys(report.byCode).every((code) => code === 'OK')) return '';
  const ids = report.failures.map((failure) => /\[x-request-id (\S+)\]/.exec(failure)?.[1]).filter((id): id is string => id !== undefined);
  const nginx = await containerLogs(stack.container('nginx').getId());
  const accessLines = nginx.split('\n').filter((line) => ids.some((id) => line.includes(`"request_id":"${id}"`)));
  const errorLines = nginx.split('\n').filter((line) => /\[(warn|error|crit)\]/.test(line)).slice(-20);
  const replicaLines = replica ? (await containerLogs(replica)).split('\n').filter((line) => /shutting down|grace period|stopped|listening/.test(line)) : [];
  return `\nnginx access log of the failed calls:\n${accessLines.join('\n')}\nnginx error log (last 20):\n${errorLines.join('\n')}\nrestarted replica:\n${replicaLines.join('\n')}`;
}

describe('zero failed calls under load', { timeout: 20 * 60_000 }, () => {
  let stack: Stack;
  let pki: Pki;
  let identity: { ca: string; cert: string; key: string };
  let load: SteadyLoadOptions;

  before(async () => {
    // The load has a certificate of its own, so its calls can be told apart in the edge log.
    pki = issuePki({ clients: ['load'] });
    identity = pki.client('load');
    load = { address: '', identity, callsPerSecond };
    // Off, so the 10,000 calls run at full speed: the rate limit has its own tests in edge-contract.
    stack = await startStack({ env: { CERTS_DIR: pki.dir, EDGE_RATE_LIMIT: 'off' } });
    load.address = stack.edgeAddress;
    await stack.scale(2);
  });

  after(async () => {
    await stack?.down();
    pki?.remove();
  });

  it("makes 10,000 calls on one channel through nginx without an error, on one connection (past nginx's default of 1000 requests per connection), with retries off", async () => {
    const report = await callsOnOneChannel({ address: stack.edgeAddress, identity, total: 10_000, concurrency: 32 });
    assert.equal(report.total, 10_000);
    assert.deepEqual(report.byCode, { OK: 10_000 }, `first failures: ${report.failures.join(' | ')}`);
    const entries = await waitFor('10,000 edge log lines', 30_000, async () => {
      const found = await edgeEntries(stack, 'load');
      return found.length >= 10_000 ? found : undefined;
    });
    assert.deepEqual([...new Set(entries.map((entry) => entry.connection))].length, 1, 'one TLS connection carried every call');
    assert.equal(Math.max(...entries.map((entry) => entry.connection_requests)), 10_000);
  });

  it('fails no call while one server replica restarts (SIGTERM, NOT_SERVING, drain), and the replica serves again', async () => {
    const replicas = (await stack.compose('ps', '--quiet', 'server')).trim().split('\n');
    assert.equal(replicas.length, 2, 'two server replicas run');
    const restarted = replicas[0] as string;
    const report = await underSteadyLoad(load, async () => {
      await sleep(1500);
      // Docker sends SIGTERM and waits up to the grace period, as compose does with stop_grace_period.
      await docker('restart', '--time', '15', restarted);
      await waitUntilHealthy('the restarted replica to be healthy', restarted);
      await sleep(1500);
    });
    assertNoFailures(report, callsPerSecond * 3, await failureEvidence(stack, report, restarted));

    const log = await containerLogs(restarted);
    assert.match(log, /health NOT_SERVING, draining calls/);
    assert.doesNotMatch(log, /grace period over/, 'the drain finished within the grace period');
    // nginx re-resolves the service name, so the restarted replica gets calls again.
    // nginx re-resolves the service name (every 5 s) and retries a peer it marked failed after
    // fail_timeout (10 s), so the restarted replica gets calls again without an nginx restart.
    await waitFor('calls to reach both replicas again', 30_000, async () => {
      const again = await underSteadyLoad(load, () => sleep(1000));
      assertNoFailures(again, callsPerSecond / 2);
      return Object.keys(again.byReplica).length === 2 ? true : undefined;
    });
  });

  it('fails no call while nginx reloads its configuration three times', async () => {
    const report = await underSteadyLoad(load, async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(1500);
        await stack.compose('exec', '-T', 'nginx', 'nginx', '-s', 'reload');
      }
      await sleep(1500);
    });
    assertNoFailures(report, callsPerSecond * 5, await failureEvidence(stack, report));
    // Each reload closes the client's connection gracefully (GOAWAY); the client reconnected. The
    // access log is buffered: the last lines arrive within a second.
    const connections = await waitFor('the access log to show the load on 4 connections: the first, and a new one after each reload', 10_000, async () => {
      const found = new Set((await edgeEntries(stack, 'load')).filter((entry) => entry.request_id.startsWith(`${report.loadId}-`)).map((entry) => entry.connection));
      return found.size >= 4 ? found : undefined;
    });
    assert.ok(connections.size >= 4);
  });

  it('fails no call while make rotate-certs replaces the server and client certificates; nginx and the web app use the new ones', async () => {
    const serverBefore = await edgeCertificateSha256(stack.edgeAddress, identity.ca);
    const newServer = { sha256: '' };
    const newClient = { sha256: '' };
    let webapp: WebappRolls | undefined;
    let webappResult = { calls: 0, failures: ['the web app load did not run'] };
    const report = await underSteadyLoad(load, async () => {
      webapp = rollThroughWebapp(stack.webappUrl, 2);
      try {
        await sleep(1500);
        // Asynchronously, so the load keeps its pace while make runs.
        const make = await execFileAsync('make', ['--no-print-directory', 'rotate-certs'], {
          cwd: repoRoot,
          env: { ...process.env, CERTS_DIR: pki.dir, COMPOSE_PROJECT_NAME: stack.projectName },
        });
        assert.match(make.stdout, /nginx reloaded/);
        newServer.sha256 = sha256Of(pki.server.cert);
        newClient.sha256 = sha256Of(pki.webapp.cert);
        // The server logs the certificate of every caller: the web app's calls arrive with the new one.
        await waitFor("the web app's calls to present the new client certificate", 20_000, async () => {
          const logs = await Promise.all((await stack.compose('ps', '--quiet', 'server')).trim().split('\n').map((id) => containerLogs(id)));
          return logs.join('\n').includes(`"sha256":"${newClient.sha256}"`) ? true : undefined;
        });
        await sleep(1500);
      } finally {
        webappResult = await webapp.stop();
      }
    });
    assert.notEqual(newServer.sha256, serverBefore);
    assert.equal(await edgeCertificateSha256(stack.edgeAddress, identity.ca), newServer.sha256, 'nginx serves the new server certificate');
    assertNoFailures(report, callsPerSecond * 3, await failureEvidence(stack, report));
    assert.ok(webappResult.calls > 20, `only ${webappResult.calls} web app calls were made`);
    assert.deepEqual(webappResult.failures, [], 'every /api/roll answered 200 during the rotation');
    await waitForLog('the web app to log the reload', stack.container('webapp').getId(), 'client certificate reloaded');
    assert.equal(await inspect(stack.container('webapp').getId(), '{{.RestartCount}}'), '0', 'the web app was not restarted');
  });

  it('fails no call while make rotate-edge-token replaces the secret the edge and the server share; the old token is refused afterwards', async () => {
    const tokenFile = join(pki.dir, 'edge-token');
    const oldToken = readFileSync(tokenFile, 'utf8').trim();
    let output = '';
    let webappResult = { calls: 0, failures: ['the web app load did not run'] };
    const report = await underSteadyLoad(load, async () => {
      const webapp = rollThroughWebapp(stack.webappUrl);
      try {
        await sleep(1500);
        const make = await execFileAsync('make', ['--no-print-directory', 'rotate-edge-token'], { cwd: repoRoot, env: { ...process.env, CERTS_DIR: pki.dir, COMPOSE_PROJECT_NAME: stack.projectName } });
        output = make.stdout + make.stderr;
        await sleep(1500);
      } finally {
        webappResult = await webapp.stop();
      }
    });
    assert.match(output, /step 3 of 3: the old token removed/);
    const newToken = readFileSync(tokenFile, 'utf8').trim();
    assert.match(newToken, /^[0-9a-f]{64}$/, 'one new token left in the file');
    assert.notEqual(newToken, oldToken);
    assertNoFailures(report, callsPerSecond * 3, await failureEvidence(stack, report));
    assert.deepEqual(webappResult.failures, [], 'every /api/roll answered 200 during the rotation');
    // Every replica now refuses the old token, and takes the new one, on a call made straight to it.
    const claims = { [metadataKeys.clientVerify]: 'SUCCESS', [metadataKeys.clientSubject]: 'CN=load,O=Dice Stack', [metadataKeys.clientCertificate]: encodeURIComponent(readFileSync(identity.cert, 'utf8')) };
    for (const replica of await stack.containers('server')) {
      const refused = await callServerDirectly(replica, '127.0.0.1:50051', { ...claims, [metadataKeys.edgeToken]: oldToken });
      assert.equal(refused.code, status.UNAUTHENTICATED, JSON.stringify(refused));
      const served = await callServerDirectly(replica, '127.0.0.1:50051', { ...claims, [metadataKeys.edgeToken]: newToken });
      assert.equal(served.code, status.OK, JSON.stringify(served));
    }
  });
});
