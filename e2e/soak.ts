// make soak: the zero-failed-calls promise, repeated until a rare failure would show. A stack of its
// own (two server replicas, a throwaway PKI) runs a steady RollDie load through nginx with a client
// certificate while each scenario runs, at SOAK_RATES calls/s (default 300 and 1000):
//   20 restarts of one replica of two (alternating), a rolling replacement of every replica, 20 nginx
//   reloads, 5 certificate rotations, and a SIGKILL of one replica (the one scenario allowed to fail
//   calls: it is measured with the client's retry policy on and off).
// Traffic goes only to the stack's loopback ports. Prints calls by final status per scenario with
// nginx's error-log lines, and exits 1 when any scenario but SIGKILL failed a call.
// SOAK_RESTARTS, SOAK_RELOADS, SOAK_ROTATIONS shorten or lengthen the runs.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metadata } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import { edgeClient } from './edge-client.ts';
import { docker, inspect, waitFor } from './docker.ts';
import { startSteadyLoad, type LoadReport, type SteadyLoadOptions } from './steady-load.ts';
import { repoRoot, startStack, type Stack } from './stack.ts';

const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const wholeNumber = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be whole numbers above 0 (got '${text}')`);
  return value;
};
const count = (name: string, fallback: number): number => wholeNumber(name, process.env[name] ?? String(fallback));
const rates = (process.env['SOAK_RATES'] ?? '300,1000').split(',').map((rate) => wholeNumber('SOAK_RATES', rate.trim()));
const restarts = count('SOAK_RESTARTS', 20);
const reloads = count('SOAK_RELOADS', 20);
const rotations = count('SOAK_ROTATIONS', 5);
// SOAK_ONLY=restarts,rolling,reloads,rotations,sigkill runs a subset (all by default).
const only = new Set((process.env['SOAK_ONLY'] ?? 'restarts,rolling,reloads,rotations,sigkill').split(','));

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
const healthy = async (id: string): Promise<true | undefined> => ((await inspect(id, '{{.State.Health.Status}}')) === 'healthy' ? true : undefined);

/**
 * What nginx saw since `since`: its error-log lines (stderr) counted by what they say, and its
 * access-log lines counted by HTTP status and gRPC status, so a failed call can be matched to the
 * edge's side of it. A call the edge answered UNAVAILABLE and the client retried shows here only.
 */
async function edgeEvidenceSince(stack: Stack, since: string, failedIds: Set<string>): Promise<Evidence> {
  const { stdout, stderr } = await execFileAsync('docker', ['logs', '--since', since, stack.container('nginx').getId()], { maxBuffer: 512 * 1024 * 1024 });
  const errors: Record<string, number> = {};
  for (const line of stderr.split('\n')) {
    const match = /\[(info|notice|warn|error|crit|alert)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$/.exec(line);
    if (!match || /client (canceled|closed|sent too many|timed out)|SSL_do_handshake|closed keepalive/.test(match[2] ?? '')) continue;
    const key = `[${match[1]}] ${(match[2] ?? '').replace(/\d{2,}/g, 'N')}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
  const calls: Record<string, number> = {};
  const lines: Record<string, string> = {};
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
    for (const id of await stack.containers('server')) logs.set(id, (await execFileAsync('docker', ['logs', '--since', since, id], { maxBuffer: 512 * 1024 * 1024 })).stdout);
    for (const [id, serverLog] of logs) {
      for (const line of serverLog.split('\n')) {
        const requestId = /"requestId":"([^"]+)"/.exec(line)?.[1];
        if (requestId && failedIds.has(requestId)) lines[requestId] = `${lines[requestId] ?? ''}\n       server ${id.slice(0, 12)}: ${line}`;
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
  const failed = result.report.total - (result.report.byCode['OK'] ?? 0);
  console.log(`${failed === 0 ? 'ok  ' : failuresExpected ? 'seen' : 'FAIL'} ${name} at ${rate} calls/s: client ${JSON.stringify(result.report.byCode)}${failed ? `; first: ${result.report.failures.slice(0, 3).join(' | ')}` : ''}`);
  console.log(`     edge calls: ${JSON.stringify(result.edge.calls)}`);
  for (const [line, times] of Object.entries(result.edge.errors).sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`     edge log ${times}x ${line}`);
  for (const [id, lines] of Object.entries(result.edge.lines)) console.log(`     ${id.startsWith('server ') || id.startsWith('nginx ') ? id : `logs of failed call ${id}`}:${lines}`);
  return result;
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
    await waitFor('the restarted replica to be healthy', 60_000, () => healthy(target));
    // As a rolling restart waits for readiness: the next replica goes only once nginx sends calls here again.
    await waitFor('nginx to send calls to the restarted replica', 30_000, () => answersFrom(load, target));
  }
}

/** Replaces every replica with a new container, one at a time, as a rolling deploy would. */
async function rollingReplacement(stack: Stack): Promise<void> {
  const old = await serverReplicas(stack);
  for (const [index, id] of old.entries()) {
    await stack.compose('up', '--detach', '--wait', '--no-deps', '--no-recreate', '--scale', `server=${old.length + 1}`, 'server');
    // The new replica is healthy (compose --wait); nginx finds it on its next re-resolution.
    await sleep(6000);
    await docker('stop', '--time', '15', id);
    // Its log stays part of the scenario's evidence; the container must go, or compose would
    // start it again for the next scale-up instead of creating a new replica.
    replacedReplicaLogs.set(id, (await execFileAsync('docker', ['logs', id], { maxBuffer: 512 * 1024 * 1024 })).stdout);
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

async function main(): Promise<void> {
  const certs = mkdtempSync(join(tmpdir(), 'dice-soak-pki-'));
  let stack: Stack | undefined;
  const results: ScenarioResult[] = [];
  try {
    const pki = (script: string, ...args: string[]): void => {
      const result = spawnSync('bash', [join(repoRoot, 'scripts', script), ...args], { env: { ...process.env, CERTS_DIR: certs }, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${script} failed: ${result.stderr}`);
    };
    pki('make-certs.sh');
    pki('client-cert.sh', 'load');
    const identity = { ca: join(certs, 'ca.pem'), cert: join(certs, 'clients/load.pem'), key: join(certs, 'clients/load-key.pem') };
    console.log(`make soak: starting a stack with two server replicas (rates ${rates.join(', ')} calls/s)`);
    stack = await startStack({ env: { CERTS_DIR: certs, EDGE_RATE_LIMIT: 'off', EDGE_ERROR_LOG_LEVEL: 'info' } });
    const started = stack;
    await started.compose('up', '--detach', '--wait', '--no-deps', '--no-recreate', '--scale', 'server=2', 'server');
    const load = { address: started.edgeAddress, identity };
    for (const rate of rates) {
      if (only.has('restarts')) results.push(await scenario(started, `${restarts} restarts of one replica of two, alternating`, rate, load, () => restartAlternating(started, load)));
      if (only.has('rolling')) results.push(await scenario(started, 'rolling replacement of every replica', rate, load, () => rollingReplacement(started)));
      if (only.has('reloads')) results.push(await scenario(started, `${reloads} nginx reloads`, rate, load, () => reloadNginx(started)));
      if (only.has('rotations')) results.push(await scenario(started, `${rotations} certificate rotations`, rate, load, () => rotateCertificates(started, certs)));
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
      await waitFor('the killed replica to be healthy again', 60_000, () => healthy(victim));
      await sleep(6000);
    }
  } finally {
    await stack?.down().catch((error: unknown) => console.error(`make soak: could not take the stack down: ${String(error)}`));
    rmSync(certs, { recursive: true, force: true });
  }
  console.log('\n| scenario | calls/s | calls | failed | by status |\n|---|---|---|---|---|');
  for (const { scenario: name, rate, report } of results) {
    console.log(`| ${name} | ${rate} | ${report.total} | ${report.total - (report.byCode['OK'] ?? 0)} | ${Object.entries(report.byCode).map(([code, n]) => `${code} ${n}`).join(', ')} |`);
  }
  const failing = results.filter((result) => !result.failuresExpected && result.report.total !== (result.report.byCode['OK'] ?? 0));
  if (failing.length) {
    console.log(`\nmake soak: ${failing.length} scenario(s) failed calls: ${failing.map((result) => `${result.scenario} at ${result.rate}/s`).join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nmake soak: no call failed in any scenario but SIGKILL');
  }
}

await main();
