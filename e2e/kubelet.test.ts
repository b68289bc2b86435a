// What a cluster does to the containers, reproduced with the real images in Docker (no cluster can
// run on these machines): Secrets mounted in the kubelet's layout and rotated by swapping the
// `..data` link under load, every container as a random UID in group 0 (OpenShift's restricted-v2),
// the kubelet's gRPC health probe, and two trust anchors (client CA and server CA) as in the OpenShift
// document. The stack runs with e2e/compose.kubelet.yml laid over docker-compose.yml.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { containerLogs, docker, inspect, waitFor, waitForLog } from './support/docker.ts';
import { edgeCertificateSha256, sha256Of } from './support/edge-certificate.ts';
import { probeWithGrpcJs } from './support/grpc-probe.ts';
import { rollThroughWebapp, underSteadyLoad, type LoadReport } from './support/steady-load.ts';
import { issuePki, type ClientFiles, type Pki } from './support/pki.ts';
import { tutorialClientRolls } from './support/python-clients.ts';
import { repoRoot, startStack, type Stack } from './support/stack.ts';

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** The UID restricted-v2 gives a pod, and the project's fsGroup that owns its Secret files. */
const openshiftUid = 1000770000;

/**
 * A Secret volume as the kubelet writes it (its AtomicWriter): the files live in a timestamped
 * directory, `..data` links to it, and each visible file links into `..data`. An update writes a new
 * directory and renames a new `..data` link over the old one, so readers see all old or all new.
 */
class SecretVolume {
  private generation = 0;
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }

  write(files: Record<string, string>): void {
    const name = `..2026_11_25_00_00_00.${++this.generation}`;
    const data = join(this.dir, name);
    mkdirSync(data);
    chmodSync(data, 0o755);
    for (const [file, source] of Object.entries(files)) {
      const target = join(data, file);
      copyFileSync(source, target);
      // root-owned, readable by the fsGroup only, as the kubelet leaves a Secret with defaultMode 0440.
      if (process.getuid?.() === 0) {
        chownSync(target, 0, openshiftUid);
        chmodSync(target, 0o440);
      } else {
        chmodSync(target, 0o444);
      }
    }
    const previous = readdirSync(this.dir).filter((entry) => entry.startsWith('..2026') && entry !== name);
    symlinkSync(name, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const file of Object.keys(files)) {
      try {
        symlinkSync(join('..data', file), join(this.dir, file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    for (const old of previous) rmSync(join(this.dir, old), { recursive: true, force: true });
  }
}

function assertNoFailures(report: LoadReport, minimumCalls: number): void {
  assert.ok(report.total >= minimumCalls, `only ${report.total} calls were made`);
  assert.deepEqual(Object.keys(report.byCode), ['OK'], `calls ended with ${JSON.stringify(report.byCode)}; first failures: ${report.failures.join(' | ')}`);
}

describe('on a cluster: Secret volumes, random UIDs, kubelet probes, two CAs', { timeout: 15 * 60_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dice-kubelet-'));
  chmodSync(scratch, 0o755);
  // Client certificates come from one CA, the edge's certificate from another.
  // make certs TWO_CAS=1: client certificates from one CA, the edge's certificate from another.
  let pki: Pki;
  const edgeSecret = new SecretVolume(join(scratch, 'secrets/edge'));
  const webappSecret = new SecretVolume(join(scratch, 'secrets/webapp'));
  const serverSecret = new SecretVolume(join(scratch, 'secrets/server'));
  const edgeFiles = () => ({ 'server.pem': pki.server.cert, 'server-key.pem': pki.server.key, 'client-ca.pem': pki.clientCa, 'crl.pem': join(pki.dir, 'crl.pem'), 'edge-token': join(pki.dir, 'edge-token') });
  const webappFiles = () => ({ 'tls.crt': pki.webapp.cert, 'tls.key': pki.webapp.key, 'ca.crt': pki.ca });
  // A client that trusts only the server CA and holds a certificate from the client CA.
  let identity: ClientFiles;
  let stack: Stack;

  before(async () => {
    // "wrong-ca": a client certificate from the server CA, which the edge must refuse.
    pki = issuePki({ dir: join(scratch, 'pki'), twoCas: true, clients: ['load', { name: 'wrong-ca', env: { ISSUER: 'server' } }] });
    identity = pki.client('load');
    edgeSecret.write(edgeFiles());
    webappSecret.write(webappFiles());
    serverSecret.write({ 'edge-token': join(pki.dir, 'edge-token') });
    stack = await startStack({
      env: { CERTS_DIR: pki.dir, EDGE_SECRET_DIR: edgeSecret.dir, WEBAPP_SECRET_DIR: webappSecret.dir, SERVER_SECRET_DIR: serverSecret.dir, EDGE_RATE_LIMIT: 'off' },
      overrides: ['e2e/compose.kubelet.yml'],
    });
  });

  after(async () => {
    await stack?.down();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs every container as a random UID in group 0 and each comes up healthy; the page rolls a die through the edge', async () => {
    for (const service of ['server', 'nginx', 'webapp'] as const) {
      const id = stack.container(service).getId();
      assert.equal(await inspect(id, '{{.Config.User}}'), `${openshiftUid}:0`, `${service} runs as ${openshiftUid}:0`);
      assert.equal(await inspect(id, '{{.State.Health.Status}}'), 'healthy', `${service} is healthy`);
      const ids = await stack.container(service).exec(['id']);
      assert.match(ids.output, new RegExp(`uid=${openshiftUid} gid=0`), `${service}: ${ids.output}`);
    }
    const response = await fetch(`${stack.webappUrl}/api/roll`);
    assert.equal(response.status, 200, await response.clone().text());
    const { value } = (await response.json()) as { value: number };
    assert.ok(value >= 1 && value <= 6);
  });

  it('lets in a client that trusts only the server CA and holds a client-CA certificate; refuses a certificate from the server CA', async () => {
    assert.notEqual(readFileSync(pki.clientCa, 'utf8'), readFileSync(pki.ca, 'utf8'), 'two different CAs');
    const [allowed] = await probeWithGrpcJs({ address: stack.edgeAddress, ...identity });
    assert.deepEqual(allowed, { code: 'OK', details: '' });
    const [refused] = await probeWithGrpcJs({ address: stack.edgeAddress, ca: identity.ca, cert: pki.client('wrong-ca').cert, key: pki.client('wrong-ca').key });
    assert.equal(refused?.code, 'UNAUTHENTICATED');
    // OpenSSL looks for the issuer's CRL (ssl_crl) before it gives up on the chain; nginx reports that.
    assert.match(refused?.details ?? '', /^client certificate rejected \(unable to get certificate CRL\): present a valid, unrevoked client certificate/);
  });

  it("answers the original tutorial's Python client given the server CA and the client files apart", async () => {
    const values = tutorialClientRolls(stack.edgeAddress, identity, 10);
    assert.equal(values.length, 10);
    for (const value of values) assert.ok(value >= 1 && value <= 6, `out of range: ${value}`);
  });

  it('keeps serving the loaded certificate when a Secret update pairs a new certificate with the old key, and says why', async () => {
    const nginx = stack.container('nginx').getId();
    const serving = await edgeCertificateSha256(stack.edgeAddress, identity.ca);
    const spare = issuePki({ dir: join(scratch, 'spare-server') });
    // The new certificate is from another CA and does not match the key: nginx -t refuses the pair.
    edgeSecret.write({ ...edgeFiles(), 'server.pem': spare.server.cert });
    await waitForLog('the watcher to report the rejected pair', nginx, 'nginx rejects them', 15_000);
    assert.match(await containerLogs(nginx), /certificate watcher: certificate files changed but nginx rejects them, so it keeps serving the ones it has: .*(key values mismatch|SSL_CTX_use_PrivateKey)/);
    assert.equal(await edgeCertificateSha256(stack.edgeAddress, identity.ca), serving, 'nginx still serves the certificate it had');
    const [call] = await probeWithGrpcJs({ address: stack.edgeAddress, ...identity });
    assert.equal(call?.code, 'OK');
    edgeSecret.write(edgeFiles());
  });

  it('follows a Secret rotation (the ..data link swapped) under load with no failed call, no reload command and no restart', async () => {
    const nginx = stack.container('nginx').getId();
    const webapp = stack.container('webapp').getId();
    const nginxStartedAt = await inspect(nginx, '{{.State.StartedAt}}');
    // New leaves (and keys) from the same two CAs.
    pki.run('rotate-certs.sh');
    const newServer = sha256Of(pki.server.cert);
    const newClient = sha256Of(pki.webapp.cert);
    assert.notEqual(await edgeCertificateSha256(stack.edgeAddress, identity.ca), newServer);

    const webappRolls = rollThroughWebapp(stack.webappUrl);
    let webappResult = { calls: 0, failures: ['the web app load did not run'] };
    const report = await underSteadyLoad({ address: stack.edgeAddress, identity, callsPerSecond: 200 }, async () => {
      try {
        await sleep(1000);
        edgeSecret.write(edgeFiles());
        webappSecret.write(webappFiles());
        await waitFor('nginx to serve the new server certificate', 20_000, async () => ((await edgeCertificateSha256(stack.edgeAddress, identity.ca)) === newServer ? true : undefined));
        await waitForLog("the web app's calls to arrive with its new client certificate", stack.container('server').getId(), `"sha256":"${newClient}"`, 20_000);
        await sleep(1000);
      } finally {
        webappResult = await webappRolls.stop();
      }
    });
    assertNoFailures(report, 200 * 2);
    assert.deepEqual(webappResult.failures, [], 'every /api/roll answered 200');
    assert.match(await containerLogs(nginx), /certificate watcher: certificate files changed; reloading nginx/);
    assert.equal(await inspect(nginx, '{{.State.StartedAt}}'), nginxStartedAt, 'nginx was not restarted');
    assert.equal(await inspect(webapp, '{{.RestartCount}}'), '0', 'the web app was not restarted');
    await waitForLog('the web app to log the reload', webapp, 'client certificate reloaded');
  });

  it("takes client certificates issued by an organisation's intermediate CA, checks the CRL of every CA in the chain, and refuses a chain whose CA has no CRL", async () => {
    const org = join(scratch, 'organisation');
    execFileSync('bash', [join(repoRoot, 'e2e/support/organisation-pki.sh'), org]);
    const orgAlice = { ca: pki.ca, cert: join(org, 'org-alice.pem'), key: join(org, 'org-alice-key.pem') };
    const orgMallory = { ca: pki.ca, cert: join(org, 'org-mallory.pem'), key: join(org, 'org-mallory-key.pem') };
    // The edge trusts the project's client CA and the organisation's root and intermediate, with a
    // CRL for each of the three.
    const bundle = (name: string, files: string[]): string => {
      writeFileSync(join(scratch, name), files.map((file) => readFileSync(file, 'utf8')).join(''));
      return join(scratch, name);
    };
    const trust = bundle('client-cas.pem', [pki.clientCa, join(org, 'chain.pem')]);
    const everyCrl = bundle('crls.pem', [join(pki.dir, 'crl.pem'), join(org, 'root-crl.pem'), join(org, 'intermediate-crl.pem')]);
    edgeSecret.write({ ...edgeFiles(), 'client-ca.pem': trust, 'crl.pem': everyCrl });
    const served = await waitFor('nginx to take the organisation\'s chain', 20_000, async () => {
      const [call] = await probeWithGrpcJs({ address: stack.edgeAddress, ...orgAlice });
      return call?.code === 'OK' ? call : undefined;
    });
    assert.deepEqual(served, { code: 'OK', details: '' }, 'a client certificate two CAs deep is served (EDGE_CLIENT_VERIFY_DEPTH 2)');
    const [revoked] = await probeWithGrpcJs({ address: stack.edgeAddress, ...orgMallory });
    assert.equal(revoked?.code, 'UNAUTHENTICATED');
    assert.match(revoked?.details ?? '', /^client certificate rejected \(certificate revoked\)/, 'revoked by the intermediate CA, in its CRL');
    const [project] = await probeWithGrpcJs({ address: stack.edgeAddress, ...identity });
    assert.equal(project?.code, 'OK', "the project's client CA goes on beside the organisation's");

    // Without the intermediate CA's CRL its certificates cannot be checked, so they are refused.
    edgeSecret.write({ ...edgeFiles(), 'client-ca.pem': trust, 'crl.pem': bundle('crls-without-intermediate.pem', [join(pki.dir, 'crl.pem'), join(org, 'root-crl.pem')]) });
    const refused = await waitFor('nginx to refuse a chain whose CA has no CRL', 20_000, async () => {
      const [call] = await probeWithGrpcJs({ address: stack.edgeAddress, ...orgAlice });
      return call?.code === 'UNAUTHENTICATED' ? call : undefined;
    });
    assert.match(refused.details, /^client certificate rejected \(unable to get certificate CRL\)/);
    edgeSecret.write(edgeFiles());
  });

  it('answers the kubelet gRPC health check (Check, service "") SERVING when ready and NOT_SERVING while draining', async () => {
    const server = stack.container('server');
    // The image's healthcheck makes the kubelet's call: grpc.health.v1.Health/Check with service "".
    const ready = await server.exec(['node', 'dist/healthcheck.js']);
    assert.equal(ready.exitCode, 0, ready.output);
    await docker('kill', '--signal', 'TERM', server.getId());
    // Within DRAIN_DELAY_MS (3 s) the server still listens and says it is draining.
    const draining = await waitFor('NOT_SERVING from the draining server', 2500, async () => {
      const result = await execFileAsync('docker', ['exec', server.getId(), 'node', 'dist/healthcheck.js']).then(() => undefined, (error: { stderr?: string }) => error.stderr);
      return result?.includes('NOT_SERVING') ? result : undefined;
    });
    assert.match(draining, /server not healthy \(NOT_SERVING\)/);
    await waitForLog('the server to log its drain', server.getId(), /"drainDelayMs":3000,"msg":"shutting down: health NOT_SERVING, draining calls"/);
  });
});
