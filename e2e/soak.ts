// make soak: the zero-failed-calls promise, repeated until a rare failure would show.
// First, on a stack of its own, why the server's drain never closes a connection at once
// (server/src/h2c-connections.ts): the same nginx in front of e2e/peers/closing-upstream.mjs.
// Then a stack of its own (two server replicas, a throwaway PKI) runs a steady RollDie load through
// nginx with a client certificate while each scenario runs, at SOAK_RATES calls/s (default 300 and
// 500, about the most a 2-core machine holds through a disruption; the baseline's latency shows
// where a machine's limit is): 15 s with nothing operated (the baseline), 20 restarts of one
// replica of two (alternating), a rolling replacement of every replica, 20 nginx reloads, 5
// certificate rotations, a full CA rotation (make rotate-ca, its three steps, the load's client
// moving as they ask; afterwards its old certificate must be refused with the edge's sentence), and
// a SIGKILL of one replica (the one scenario allowed to fail calls: it is measured with the client's
// retry policy on and off).
// Traffic goes only to the stacks' loopback ports. Prints calls by final status per scenario, with
// what nginx answered and logged and the evidence of each failed call, and exits 1 when any scenario
// but SIGKILL (and the closing upstream's at-once case, the behaviour the drain avoids) failed a call.
// SOAK_RESTARTS, SOAK_RELOADS, SOAK_ROTATIONS, SOAK_UPSTREAM_CALLS shorten or lengthen the runs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Metadata } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import { edgeClient, rollDie } from './support/edge-client.ts';
import { docker, waitFor, waitUntilHealthy } from './support/docker.ts';
import { callsOnOneChannel, startSteadyLoad, type LoadReport, type SteadyLoadOptions } from './support/steady-load.ts';
import { rotateCaUnderLoad } from './support/ca-rotation.ts';
import { issuePki, type Pki } from './support/pki.ts';
import { repoRoot, startStack, type Stack } from './support/stack.ts';

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const wholeNumber = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be whole numbers above 0 (got '${text}')`);
  return value;
};
const count = (name: string, fallback: number): number => wholeNumber(name, process.env[name] ?? String(fallback));
const rates = (process.env['SOAK_RATES'] ?? '300,500').split(',').map((rate) => wholeNumber('SOAK_RATES', rate.trim()));
const restarts = count('SOAK_RESTARTS', 20);
const reloads = count('SOAK_RELOADS', 20);
const rotations = count('SOAK_ROTATIONS', 5);
const upstreamCalls = count('SOAK_UPSTREAM_CALLS', 1000);
// SOAK_ONLY=upstream-close,baseline,restarts,rolling,reloads,rotations,ca-rotation,sigkill runs a subset (all by default).
const only = new Set((process.env['SOAK_ONLY'] ?? 'upstream-close,baseline,restarts,rolling,reloads,rotations,ca-rotation,sigkill').split(','));

interface ScenarioResult {
  scenario: string;
  rate: number;
  report: LoadReport;
  /** Failures are measured and reported but do not fail the soak (SIGKILL). */
  failuresExpected?: boolean;
  edge: Evidence;
}

/** nginx's side: error-log lines by what they say, access-log lines by status, the failed calls' lines. */
interface Evidence {
  errors: Record<string, number>;
  calls: Record<string, number>;
  lines: Record<string, string>;
}

const serverReplicas = async (stack: Stack): Promise<string[]> => (await stack.compose('ps', '--quiet', 'server')).trim().split('\n').filter(Boolean);

/**
 * What nginx saw since `since`: its error-log lines (stderr) counted by what they say, and its
 * access-log lines counted by HTTP status and gRPC status, so a failed call can be matched to the
 * edge's side of it. A call the edge answered UNAVAILABLE and the client retried shows here only.
 */
async function edgeEvidenceSince(stack: Stack, since: string, failedIds: Set<string>): Promise<Evidence> {
  // nginx writes its access log a buffer at a time, at the latest a second after a line (flush=1s).
  await sleep(1200);
  const stdout = await stack.logs('nginx', { since, stream: 'stdout' });
  const stderr = await stack.logs('nginx', { since, stream: 'stderr' });
  const errors: Record<string, number> = {};
  for (const line of stderr.split('\n')) {
    const match = /\[(info|notice|warn|error|crit|alert)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$/.exec(line);
    if (!match || /client (canceled|closed|sent too many|timed out)|SSL_do_handshake|closed keepalive/.test(match[2] ?? '')) continue;
    const key = `[${match[1]}] ${(match[2] ?? '').replace(/\d{2,}/g, 'N')}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
  const calls: Record<string, number> = {};
  const lines: Record<string, string> = {};
  // How trouble began: nginx's first upstream errors, in order, with the peer each was about.
  const firstErrors = stderr.split('\n').filter((line) => /\[(warn|error)\]/.test(line) && /upstream/.test(line)).slice(0, 8);
  if (firstErrors.length) lines['nginx first upstream errors'] = `\n       ${firstErrors.map((line) => line.replace(/, client: .*?(, upstream: "[^"]*")?, host.*$/, '$1')).join('\n       ')}`;
  const failedConnections = new Set<number>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { http_status: number; grpc_status: string; request_id: string };
    if (failedIds.has(entry.request_id)) {
      lines[entry.request_id] = `${lines[entry.request_id] ?? ''}\n       ${line}`;
      failedConnections.add((entry as unknown as { connection: number }).connection);
    }
    const key = `http ${entry.http_status} grpc ${entry.grpc_status === '' ? '(none)' : entry.grpc_status}`;
    calls[key] = (calls[key] ?? 0) + 1;
  }
  // nginx's error-log lines about the client connections the failed calls came over (any level).
  for (const connection of [...failedConnections].slice(0, 3)) {
    const about = stderr.split('\n').filter((line) => line.includes(` *${connection} `));
    if (about.length) lines[`nginx connection *${connection}`] = `\n       ${about.slice(-15).join('\n       ')}`;
  }
  // The server's own log line for each failed call (requestId, durationMs, peer): did it see the call, and when?
  if (failedIds.size > 0) {
    const logs = new Map(replacedReplicaLogs);
    for (const id of await stack.containers('server')) logs.set(id, await stack.logs(id, { since, stream: 'stdout' }));
    for (const [id, serverLog] of logs) {
      // Each line read once: its request id and peer (nginx's upstream connection, as the server
      // saw it), so a failed call can say which call on its connection it was (the first call on a
      // new connection is special to nginx).
      const entries = serverLog.split('\n').map((line) => ({ line, requestId: /"requestId":"([^"]+)"/.exec(line)?.[1], peer: /"peer":"([^"]+)"/.exec(line)?.[1] }));
      const callsByPeer = new Map<string, string[]>();
      for (const { requestId, peer } of entries) {
        if (!requestId || !peer) continue;
        const onPeer = callsByPeer.get(peer);
        if (onPeer) onPeer.push(requestId);
        else callsByPeer.set(peer, [requestId]);
      }
      for (const { line, requestId, peer } of entries) {
        const onPeer = callsByPeer.get(peer ?? '') ?? [];
        if (requestId && failedIds.has(requestId)) lines[requestId] = `${lines[requestId] ?? ''}\n       server ${id.slice(0, 12)} (call ${onPeer.indexOf(requestId) + 1} of ${onPeer.length} on its connection): ${line}`;
        else if (/shutting down|grace period|stopped|listening/.test(line)) lines[`server ${id.slice(0, 12)}`] = `${lines[`server ${id.slice(0, 12)}`] ?? ''}\n       ${line}`;
      }
    }
  }
  return { errors, calls, lines };
}

/** The logs of replicas a rolling replacement removed, kept for the evidence of its failed calls. */
const replacedReplicaLogs = new Map<string, string>();

async function scenario(stack: Stack, name: string, rate: number, load: Omit<SteadyLoadOptions, 'callsPerSecond'>, during: () => Promise<void>, failuresExpected = false): Promise<ScenarioResult> {
  const since = new Date().toISOString();
  replacedReplicaLogs.clear();
  const running = startSteadyLoad({ ...load, callsPerSecond: rate });
  let report!: LoadReport;
  try {
    await during();
  } finally {
    report = await running.stop();
  }
  const result: ScenarioResult = { scenario: name, rate, report, failuresExpected, edge: await edgeEvidenceSince(stack, since, new Set(report.failures.map((failure) => /\[x-request-id (\S+)\]/.exec(failure)?.[1] ?? ''))) };
  printScenario(result);
  return result;
}

function printScenario({ scenario: name, rate, report, failuresExpected, edge }: ScenarioResult): void {
  const failed = report.total - (report.byCode['OK'] ?? 0);
  console.log(`${failed === 0 ? 'ok  ' : failuresExpected ? 'seen' : 'FAIL'} ${name}${rate ? ` at ${rate} calls/s` : ''}: client ${JSON.stringify(report.byCode)}${failed ? `; first: ${report.failures.slice(0, 3).join(' | ')}` : ''}`);
  console.log(`     edge calls: ${JSON.stringify(edge.calls)}`);
  for (const [line, times] of Object.entries(edge.errors).sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`     edge log ${times}x ${line}`);
  for (const [id, lines] of Object.entries(edge.lines)) console.log(`     ${id.startsWith('server ') || id.startsWith('nginx ') ? id : `logs of failed call ${id}`}:${lines}`);
}

/**
 * Why the server's drain lingers: the same nginx in front of an upstream that ends its connection
 * right after each call (every call is then the first on a new upstream connection), never, at once
 * (grpc-js's tryShutdown), or after a GOAWAY and a second (the server's drain). Calls without
 * retries, 10 at a time, so each failure is seen as the client gets it.
 */
async function nginxBeforeClosingUpstream(certs: string, identity: Required<SteadyLoadOptions['identity']>): Promise<ScenarioResult[]> {
  const env = { CERTS_DIR: certs, EDGE_RATE_LIMIT: 'off' };
  let stack = await startStack({ env: { ...env, UPSTREAM_CLOSE: 'never' }, overrides: ['e2e/compose.closing-upstream.yml'] });
  const results: ScenarioResult[] = [];
  try {
    for (const mode of ['never', 'at-once', 'goaway-linger']) {
      stack = await stack.update({ ...env, UPSTREAM_CLOSE: mode });
      const since = new Date().toISOString();
      const report = await callsOnOneChannel({ address: stack.edgeAddress, identity, total: upstreamCalls, concurrency: 10 });
      const result = { scenario: `an upstream that closes its connection after each call: ${mode}`, rate: 0, report, failuresExpected: mode === 'at-once', edge: await edgeEvidenceSince(stack, since, new Set()) };
      printScenario(result);
      results.push(result);
    }
  } finally {
    await stack.down().catch((error: unknown) => console.error(`make soak: could not take the stack down: ${String(error)}`));
  }
  return results;
}

/** true once a call through the edge is answered by the replica (x-dice-replica is its hostname). */
async function answersFrom(load: Omit<SteadyLoadOptions, 'callsPerSecond'>, id: string): Promise<true | undefined> {
  const client = edgeClient(load.address, load.identity);
  try {
    for (let i = 0; i < 20; i++) {
      const replica = await new Promise<string>((resolve) => {
        let name = '';
        const call = client.RollDie({}, { deadline: Date.now() + 2000 }, () => resolve(name));
        call.on('metadata', (metadata: Metadata) => (name = String(metadata.get(metadataKeys.replica)[0] ?? '')));
      });
      if (replica !== '' && id.startsWith(replica)) return true;
    }
    return undefined;
  } finally {
    client.close();
  }
}

async function restartAlternating(stack: Stack, load: Omit<SteadyLoadOptions, 'callsPerSecond'>): Promise<void> {
  for (let i = 0; i < restarts; i++) {
    const replicas = await serverReplicas(stack);
    const target = replicas[i % replicas.length] as string;
    // SIGTERM, the drain, then a start: what `docker compose restart` and a node reboot do.
    await docker('restart', '--time', '15', target);
    await waitUntilHealthy('the restarted replica to be healthy', target);
    // As a rolling restart waits for readiness: the next replica goes only once nginx sends calls here again.
    await waitFor('nginx to send calls to the restarted replica', 30_000, () => answersFrom(load, target));
  }
}

/** Replaces every replica with a new container, one at a time, as a rolling deploy would. */
async function rollingReplacement(stack: Stack): Promise<void> {
  const old = await serverReplicas(stack);
  for (const [index, id] of old.entries()) {
    await stack.scale(old.length + 1);
    // The new replica is healthy (compose --wait); nginx finds it on its next re-resolution.
    await sleep(6000);
    await docker('stop', '--time', '15', id);
    // Its log stays part of the scenario's evidence; the container must go, or compose would
    // start it again for the next scale-up instead of creating a new replica.
    replacedReplicaLogs.set(id, await stack.logs(id, { stream: 'stdout' }));
    await docker('rm', id);
    if (index < old.length - 1) await sleep(1000);
  }
  const now = await serverReplicas(stack);
  if (now.some((id) => old.includes(id)) || now.length !== old.length) throw new Error(`rolling replacement left ${now.length} replicas, ${now.filter((id) => old.includes(id)).length} of them old`);
}

async function reloadNginx(stack: Stack): Promise<void> {
  for (let i = 0; i < reloads; i++) {
    await stack.compose('exec', '-T', 'nginx', 'nginx', '-s', 'reload');
    await sleep(500);
  }
}

async function rotateCertificates(stack: Stack, certs: string): Promise<void> {
  for (let i = 0; i < rotations; i++) {
    await execFileAsync('make', ['--no-print-directory', 'rotate-certs'], { cwd: repoRoot, env: { ...process.env, CERTS_DIR: certs, COMPOSE_PROJECT_NAME: stack.projectName } });
    await sleep(1500);
  }
}

/**
 * make rotate-ca under the load (support/ca-rotation.ts), then one call with the old certificate,
 * which must be refused with the edge's sentence: a call that is not counts as a failure. Returns
 * the identity the load goes on with (the new CA's).
 */
async function caRotation(stack: Stack, pki: Pki, rate: number, load: Omit<SteadyLoadOptions, 'callsPerSecond'>, results: ScenarioResult[]): Promise<Omit<SteadyLoadOptions, 'callsPerSecond'>> {
  const since = new Date().toISOString();
  const { report, newLeaf, oldLeaf } = await rotateCaUnderLoad({ stack, pki, load: { ...load, callsPerSecond: rate }, newClientName: `load-ca-${rate}` });
  const old = edgeClient(stack.edgeAddress, { ...oldLeaf, ca: pki.ca }, { retries: 'off' });
  const refusal = await rollDie(old).then(
    () => 'answered OK',
    (error: { code: number; details: string }) => (error.code === 16 && /^client certificate rejected \(/.test(error.details) ? undefined : `code ${error.code}: ${error.details}`),
  );
  old.close();
  if (refusal !== undefined) {
    report.byCode['OLD_CERTIFICATE_NOT_REFUSED'] = 1;
    report.failures.push(`a certificate from the old CA, after step 3: ${refusal}`);
  }
  const result: ScenarioResult = { scenario: 'CA rotation (make rotate-ca, three steps), then the old certificate refused', rate, report, edge: await edgeEvidenceSince(stack, since, new Set()) };
  printScenario(result);
  results.push(result);
  return { ...load, identity: { ...newLeaf, ca: pki.ca } };
}

/** The scenarios on the project's own stack: two server replicas, a steady load at each rate. */
async function operatedUnderLoad(pki: Pki, identity: Required<SteadyLoadOptions['identity']>): Promise<ScenarioResult[]> {
  const certs = pki.dir;
  const results: ScenarioResult[] = [];
  let stack: Stack | undefined;
  try {
    console.log(`make soak: starting a stack with two server replicas (rates ${rates.join(', ')} calls/s)`);
    stack = await startStack({ env: { CERTS_DIR: certs, EDGE_RATE_LIMIT: 'off', EDGE_ERROR_LOG_LEVEL: 'info' } });
    const started = stack;
    await started.scale(2);
    let load = { address: started.edgeAddress, identity };
    for (const rate of rates) {
      // What the machine does at this rate with nothing going on: if latency is already high, the
      // rate is past what it holds, and a disruption will pile calls up past their deadlines.
      if (only.has('baseline')) results.push(await scenario(started, 'steady load for 15 s, nothing operated', rate, load, () => sleep(15_000)));
      if (only.has('restarts')) results.push(await scenario(started, `${restarts} restarts of one replica of two, alternating`, rate, load, () => restartAlternating(started, load)));
      if (only.has('rolling')) results.push(await scenario(started, 'rolling replacement of every replica', rate, load, () => rollingReplacement(started)));
      if (only.has('reloads')) results.push(await scenario(started, `${reloads} nginx reloads`, rate, load, () => reloadNginx(started)));
      if (only.has('rotations')) results.push(await scenario(started, `${rotations} certificate rotations`, rate, load, () => rotateCertificates(started, certs)));
      if (only.has('ca-rotation')) load = await caRotation(started, pki, rate, load, results);
      if (!only.has('sigkill')) continue;
      // SIGKILL: no drain. Measured twice at once, with the documented retry policy and with none.
      const victim = (await serverReplicas(started))[0] as string;
      const raw = startSteadyLoad({ ...load, callsPerSecond: Math.round(rate / 2), retries: false });
      results.push(
        await scenario(started, 'SIGKILL of one replica of two (retry policy on)', Math.round(rate / 2), load, async () => {
          await sleep(1000);
          await docker('kill', '--signal', 'KILL', victim);
          await sleep(3000);
        }, true),
      );
      const rawReport = await raw.stop();
      results.push({ scenario: 'SIGKILL of one replica of two (retries off)', rate: Math.round(rate / 2), report: rawReport, failuresExpected: true, edge: { errors: {}, calls: {}, lines: {} } });
      console.log(`seen SIGKILL of one replica of two (retries off) at ${Math.round(rate / 2)} calls/s: ${JSON.stringify(rawReport.byCode)}; first: ${rawReport.failures.slice(0, 3).join(' | ')}`);
      await docker('start', victim);
      await waitUntilHealthy('the killed replica to be healthy again', victim);
      await sleep(6000);
    }
  } finally {
    await stack?.down().catch((error: unknown) => console.error(`make soak: could not take the stack down: ${String(error)}`));
  }
  return results;
}

async function main(): Promise<void> {
  const pki = issuePki({ clients: ['load'] });
  const results: ScenarioResult[] = [];
  try {
    const identity = pki.client('load');
    if (only.has('upstream-close')) results.push(...(await nginxBeforeClosingUpstream(pki.dir, identity)));
    if ([...only].some((name) => name !== 'upstream-close')) results.push(...(await operatedUnderLoad(pki, identity)));
  } finally {
    pki.remove();
  }
  console.log('\n| scenario | calls/s | calls | failed | by status | edge answered UNAVAILABLE (retried) | latency p50 / p99 / max ms |\n|---|---|---|---|---|---|---|');
  for (const { scenario: name, rate, report, edge } of results) {
    const edgeUnavailable = Object.entries(edge.calls).filter(([key]) => key.endsWith('grpc 14')).reduce((sum, [, n]) => sum + n, 0);
    const latency = report.latencyMs ? `${report.latencyMs.p50} / ${report.latencyMs.p99} / ${report.latencyMs.max}` : '';
    console.log(`| ${name} | ${rate || '-'} | ${report.total} | ${report.total - (report.byCode['OK'] ?? 0)} | ${Object.entries(report.byCode).map(([code, n]) => `${code} ${n}`).join(', ')} | ${edgeUnavailable} | ${latency} |`);
  }
  const failing = results.filter((result) => !result.failuresExpected && result.report.total !== (result.report.byCode['OK'] ?? 0));
  if (failing.length) {
    console.log(`\nmake soak: ${failing.length} scenario(s) failed calls: ${failing.map((result) => `${result.scenario} at ${result.rate}/s`).join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nmake soak: no call failed but where failures are expected (SIGKILL, an upstream closing at once)');
  }
}

await main();
