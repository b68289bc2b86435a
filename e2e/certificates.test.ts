// Certificates that renew themselves: the stack runs with one-minute leaves and the renewer checking
// every 2 s, so it renews each leaf every 20 s or so (a third of its lifetime left). Under steady
// load every leaf is renewed at least twice with no failed call and the edge serves each new one;
// then the CA is replaced under load with make rotate-ca; then, with the renewer stopped, a certificate about to expire is said by health and logs before it
// expires, and refused with the edge's sentence after. Its own stack and throwaway PKI.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { inspect, waitFor } from './support/docker.ts';
import { edgeCertificate } from './support/edge-certificate.ts';
import { edgeClient, rollDie } from './support/edge-client.ts';
import { issuePki, type Pki } from './support/pki.ts';
import { tutorialClientRolls } from './support/python-clients.ts';
import { rotateCaUnderLoad, type CaRotation } from './support/ca-rotation.ts';
import { startStack, type Stack } from './support/stack.ts';
import { rollThroughWebapp, underSteadyLoad, type SteadyLoadOptions } from './support/steady-load.ts';

const callsPerSecond = 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** openssl's time format, for VALID_FROM / VALID_UNTIL. */
const opensslTime = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
const sansLeadingZeros = (serial: string): string => serial.toUpperCase().replace(/^0+/, '');

/** The serials the renewer logged for NAME.pem, in order. */
async function renewedSerials(stack: Stack, name: 'server' | 'client'): Promise<string[]> {
  const log = await stack.logs('renewer');
  return [...log.matchAll(new RegExp(`renewed ${name}\\.pem \\(serial ([0-9A-F]+)\\)`, 'g'))].map((match) => sansLeadingZeros(match[1] ?? ''));
}

/** The last health check's state and words, as `docker inspect` shows them. */
async function health(stack: Stack, service: 'nginx' | 'webapp' | 'renewer'): Promise<{ status: string; output: string }> {
  const state = JSON.parse(await inspect(stack.container(service).getId(), '{{json .State.Health}}')) as { Status: string; Log: { Output: string }[] };
  return { status: state.Status, output: state.Log.at(-1)?.Output.trim() ?? '' };
}

describe('certificates that renew themselves', { timeout: 10 * 60_000 }, () => {
  let stack: Stack;
  let pki: Pki;
  let load: SteadyLoadOptions;

  before(async () => {
    // The load's own certificate comes from make client-cert (long-lived), so it keeps calling
    // while the stack's leaves turn over; the web app's calls use the renewing client.pem.
    pki = issuePki({ clients: ['load'], lifetime: '60s' });
    stack = await startStack({ env: { CERTS_DIR: pki.dir, CERT_LIFETIME: '60s', CERT_RENEW_INTERVAL: '2s', EDGE_RATE_LIMIT: 'off' } });
    load = { address: stack.edgeAddress, identity: pki.client('load'), callsPerSecond };
  });

  after(async () => {
    await stack?.down();
    pki?.remove();
  });

  it('renews the server and client certificates at least twice under load, failing no call; the edge serves each new one', async () => {
    const served = new Set<string>();
    const serverRenewals = (await renewedSerials(stack, 'server')).length;
    const clientRenewals = (await renewedSerials(stack, 'client')).length;
    let webappResult = { calls: 0, failures: ['the web app load did not run'] };
    const report = await underSteadyLoad(load, async () => {
      const webapp = rollThroughWebapp(stack.webappUrl, 2);
      try {
        await waitFor('two more renewals of each leaf, and the edge serving them', 120_000, async () => {
          served.add(sansLeadingZeros((await edgeCertificate(stack.edgeAddress, pki.ca)).serial));
          const server = (await renewedSerials(stack, 'server')).slice(serverRenewals);
          const client = (await renewedSerials(stack, 'client')).slice(clientRenewals);
          return server.length >= 2 && client.length >= 2 && server.slice(0, 2).every((serial) => served.has(serial)) ? true : undefined;
        });
        // The web app's calls after the last renewal use the new client certificate too.
        await sleep(3000);
      } finally {
        webappResult = await webapp.stop();
      }
    });
    assert.ok(served.size >= 3, `the edge served ${served.size} certificates`);
    assert.deepEqual(report.byCode, { OK: report.total }, `calls failed: ${report.failures.join(' | ')}`);
    assert.ok(report.total >= callsPerSecond * 20, `only ${report.total} calls were made`);
    assert.ok(webappResult.calls > 50, `only ${webappResult.calls} web app calls were made`);
    assert.deepEqual(webappResult.failures, [], 'every /api/roll answered 200 while the certificates turned over');
    const reloads = (await stack.logs('webapp')).split('\n').filter((line) => line.includes('client certificate reloaded'));
    assert.ok(reloads.length >= 2, `the web app reloaded its client certificate ${reloads.length} times`);
    assert.equal((await health(stack, 'renewer')).status, 'healthy');
  });

  it('replaces the CA under load, step by step (make rotate-ca STEP=1, 2, 3), failing no call; afterwards a leaf from the old CA is refused with the edge\'s sentence', async () => {
    const webapp = rollThroughWebapp(stack.webappUrl, 2);
    let rotation: CaRotation;
    let pythonRolls: number[] = [];
    let webappResult: { calls: number; failures: string[] };
    try {
      // The tutorial's Python client, holding its old certificate and the trust file of step 1,
      // calls the edge that now serves a certificate from the new CA.
      const afterStep2 = async (trustBoth: string): Promise<void> => {
        pythonRolls = tutorialClientRolls(stack.edgeAddress, { ...pki.client('load'), ca: trustBoth }, 3);
      };
      rotation = await rotateCaUnderLoad({ stack, pki, load, newClientName: 'load-new-ca', afterStep2 });
    } finally {
      webappResult = await webapp.stop();
    }
    const { report, outputs, oldLeaf, newLeaf } = rotation;
    assert.match(outputs[0] ?? '', /step 1 of 3: ca\.pem trusts the old server CA and the new one[\s\S]*waiting until nginx has reloaded and the web app has re-read its files/);
    assert.match(outputs[1] ?? '', /step 2 of 3: server\.pem \(serial [0-9A-F]+\) and client\.pem \(serial [0-9A-F]+\) come from the new CA/);
    assert.match(outputs[2] ?? '', /step 3 of 3: the old server CA is no longer trusted/);
    assert.deepEqual(report.byCode, { OK: report.total }, `calls failed: ${report.failures.join(' | ')}`);
    assert.equal(pythonRolls.length, 3, 'grpcio trusting both CAs reaches the edge across the change of its certificate');
    assert.ok(pythonRolls.every((value) => value >= 1 && value <= 6));
    assert.ok(report.total > callsPerSecond * 5, `only ${report.total} calls were made`);
    assert.ok(webappResult.calls > 50, `only ${webappResult.calls} web app calls were made`);
    assert.deepEqual(webappResult.failures, [], 'every /api/roll answered 200 while the CA was replaced');

    // ca.pem now holds the new CA alone: the edge's certificate verifies against it.
    assert.equal(readFileSync(pki.ca, 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 1);
    await edgeCertificate(stack.edgeAddress, pki.ca);
    const refused = edgeClient(stack.edgeAddress, { ...oldLeaf, ca: pki.ca }, { retries: 'off' });
    const served = edgeClient(stack.edgeAddress, { ...newLeaf, ca: pki.ca }, { retries: 'off' });
    try {
      await assert.rejects(rollDie(refused), (error: { code: number; details: string }) => {
        assert.equal(error.code, status.UNAUTHENTICATED);
        assert.match(error.details, /^client certificate rejected \(unable to (get local issuer certificate|verify the first certificate)\): present a valid, unrevoked client certificate/);
        return true;
      });
      assert.ok((await rollDie(served)) >= 1);
    } finally {
      refused.close();
      served.close();
    }
  });

  it('says a certificate it could not renew is about to expire (health checks, logs), and the edge refuses it once expired', async () => {
    await stack.compose('stop', 'renewer');
    const now = Date.now();
    // The last renewals before the renewer stopped, as they would stand some time later: the edge's
    // certificate 8 minutes from the end of 48, the web app's 45 s from the end of 6 minutes, both
    // under a quarter of their lifetime.
    pki.run('rotate-certs.sh', [], { VALID_FROM: opensslTime(now - 40 * 60_000), VALID_UNTIL: opensslTime(now + 8 * 60_000) });
    const last = pki.issue({ name: 'dice-webapp-last', env: { VALID_FROM: opensslTime(now - 5 * 60_000), VALID_UNTIL: opensslTime(now + 45_000) } });
    writeFileSync(pki.webapp.key, readFileSync(last.key));
    writeFileSync(pki.webapp.cert, readFileSync(last.cert));
    const expiresAt = now + 45_000;

    const edge = await waitFor('the edge to report its certificate', 30_000, async () => {
      const state = await health(stack, 'nginx');
      return state.status === 'unhealthy' ? state : undefined;
    });
    assert.match(edge.output, /^the server certificate expires in \d+ s and has not been renewed/);
    const webapp = await waitFor('the web app to report its certificate', 30_000, async () => {
      const state = await health(stack, 'webapp');
      return state.status === 'unhealthy' ? state : undefined;
    });
    assert.match(webapp.output, /^the client certificate expires in \d+s and has not been renewed/);
    assert.ok(Date.now() < expiresAt, 'said before the certificate expired');
    const healthz = (await (await fetch(`${stack.webappUrl}/healthz`)).json()) as { status: string; problems?: string[] };
    assert.equal(healthz.status, 'degraded');
    await waitFor('the web app to warn in its log', 20_000, async () =>
      (await stack.logs('webapp')).split('\n').some((line) => line.includes('"level":40') && /the client certificate expires in \d+s and has not been renewed/.test(line)) ? true : undefined,
    );
    // Calls still work until then.
    assert.equal((await fetch(`${stack.webappUrl}/api/roll`)).status, 200);

    await sleep(expiresAt - Date.now() + 1500);
    // A fresh connection with the files the web app holds: the edge checks the certificate at the
    // handshake and answers with its sentence (a connection opened before the expiry lives on).
    const client = edgeClient(stack.edgeAddress, pki.webapp, { retries: 'off' });
    try {
      await assert.rejects(rollDie(client), (error: { code: number; details: string }) => {
        assert.equal(error.code, status.UNAUTHENTICATED);
        assert.match(error.details, /^client certificate rejected \(certificate has expired\)/);
        return true;
      });
    } finally {
      client.close();
    }
    const expired = (await (await fetch(`${stack.webappUrl}/healthz`)).json()) as { status: string; problems?: string[] };
    assert.match(expired.problems?.join() ?? '', /^the client certificate expired \d+s ago: the edge refuses every call/);
  });
});
