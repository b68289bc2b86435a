// make bench: every scenario of the benchmark against the real containers, then the report in
// bench/results/<date>.md and .json. BENCH_ROUNDS, BENCH_SECONDS and BENCH_WARMUP_SECONDS shorten a
// run (BENCH_ROUNDS=1 BENCH_SECONDS=1 is a smoke run); BENCH_ONLY=12 or 13 runs that scenario alone.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { metadataKeys } from '@dice/proto';
import { edgeIdentityMetadata, pki } from './bench-pki.ts';
import { BenchStack, containerCpuSeconds, hostProcessCpuSeconds, machineBusySeconds, repoRoot, type Service, type StackSettings } from './bench-stack.ts';
import { runGrpcLoad, type GrpcLoadOptions } from './grpc-load.ts';
import { medianRound, renderMarkdown, type Target, type VariantResult } from './report.ts';
import { containerRssMb } from '../../e2e/support/docker.ts';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 4);
const warmupSeconds = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 2);
const benchOnly = process.env['BENCH_ONLY'];
// Scenario 12 compares small differences: more, shorter-spaced rounds than the others.
const tracingRounds = Number(process.env['BENCH_TRACING_ROUNDS'] ?? 10);
// The edge scenario 13 compares the rendered routes with: the last revision before routes.yaml.
const baselineEdgeRevision = process.env['BENCH_BASELINE_EDGE'] ?? '0049958';

const ecdsa = pki('ecdsa');
const rsa = pki('rsa');
const tlsFor = (dir: string) => ({ ca: `${dir}/ca.pem`, cert: `${dir}/clients/bench.pem`, key: `${dir}/clients/bench-key.pem`, serverName: 'localhost' });

const shipped: StackSettings = { replicas: 1, workers: 'auto', upstreamKeepalive: 32, keepaliveRequests: 100_000, certsDir: ecdsa, serverLogLevel: 'info' };
const stack = new BenchStack();

interface RoundOutcome {
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  errors: Record<string, number>;
  loadToolCpu: number;
  extra: Record<string, number>;
}
type Load = (durationSeconds: number) => Promise<RoundOutcome>;

function grpcLoad(options: Omit<GrpcLoadOptions, 'durationMs' | 'warmupMs'> | (() => Promise<Omit<GrpcLoadOptions, 'durationMs' | 'warmupMs'>>)): Load {
  return async (durationSeconds) => {
    const resolved = typeof options === 'function' ? await options() : options;
    const result = await runGrpcLoad({ ...resolved, durationMs: durationSeconds * 1000, warmupMs: 300 });
    const extra: Record<string, number> = {};
    if (resolved.mode === 'connection-per-call') extra['resumed %'] = Math.round((result.resumed / Math.max(1, result.calls)) * 100);
    return { rate: result.callsPerSecond, p50: result.p50, p90: result.p90, p99: result.p99, errors: result.errors, loadToolCpu: result.loadToolCpuSeconds, extra };
  };
}

function httpLoad(path: string, connections: number, overallRate?: number, on: BenchStack = stack): Load {
  return async (durationSeconds) => {
    const cpuBefore = process.cpuUsage();
    const result = await autocannon({ url: `${on.webappUrl()}${path}`, connections, duration: durationSeconds, ...(overallRate ? { overallRate } : {}) });
    const cpu = process.cpuUsage(cpuBefore);
    const errors: Record<string, number> = {};
    if (result.non2xx) errors['non-2xx'] = result.non2xx;
    if (result.errors) errors['socket errors'] = result.errors;
    if (result.timeouts) errors['timeouts'] = result.timeouts;
    return { rate: Math.round(result.requests.average), p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, errors, loadToolCpu: (cpu.user + cpu.system) / 1e6, extra: {} };
  };
}

/** Builds the edge of a git revision whose nginx/ is its own build context (before routes.yaml) as dice-stack/nginx:baseline. */
function buildBaselineEdge(revision: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'dice-edge-baseline-'));
  try {
    execFileSync('git', ['-C', repoRoot, 'archive', '--output', join(dir, 'edge.tar'), revision, 'nginx']);
    execFileSync('tar', ['-xf', join(dir, 'edge.tar'), '-C', dir]);
    const base = /^NGINX_IMAGE=(.+)$/m.exec(readFileSync(`${repoRoot}.env`, 'utf8'))?.[1] ?? 'nginx:1.30';
    process.stdout.write(`building the baseline edge of ${revision} on ${base}\n`);
    execFileSync('docker', ['build', '--quiet', '--tag', 'dice-stack/nginx:baseline', '--build-arg', `NGINX_IMAGE=${base}`, join(dir, 'nginx')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs of one variant taken apart in time, as one: the mean rate and nginx CPU, every round's rate. */
const mean = (runs: VariantResult[]): VariantResult => ({ ...(runs[0] as VariantResult), rate: Math.round(runs.reduce((sum, run) => sum + run.rate, 0) / runs.length), rounds: runs.flatMap((run) => run.rounds), cpu: { nginx: runs.reduce((sum, run) => sum + (run.cpu['nginx'] ?? 0) / runs.length, 0) } });

/** nginx's CPU per call in µs, from a variant's median round. */
const nginxMicrosPerCall = (result: VariantResult): number => Math.round(((result.cpu['nginx'] ?? 0) * 1e6) / Math.max(1, result.rate));

const results: VariantResult[] = [];
let largestServerRss = 0;

/** CPU seconds so far: each service's containers, Docker's own processes together, and the whole machine. */
/** The services on the call path (the renewer sleeps between checks and is left out). */
type Measured = Exclude<Service, 'renewer' | 'echo'>;

async function cpuOf(ids: Record<Measured, string[]>): Promise<Record<Measured | 'docker' | 'machine', number>> {
  const total = async (list: string[]) => (await Promise.all(list.map(containerCpuSeconds))).reduce((a, b) => a + b, 0);
  const docker = Object.values(await hostProcessCpuSeconds()).reduce((a, b) => a + b, 0);
  return { server: await total(ids.server), nginx: await total(ids.nginx), webapp: await total(ids.webapp), docker, machine: await machineBusySeconds() };
}

/** Counts the client connections the load tool's calls came over, from nginx's access log. */
async function clientConnectionsSince(since: string): Promise<number> {
  const logs = await stack.logsSince('nginx', since);
  const ids = new Set<string>();
  for (const line of logs.split('\n')) if (line.includes('CN=bench')) ids.add(/"connection":(\d+)/.exec(line)?.[1] ?? '');
  return ids.size;
}

type MeasuredRound = RoundOutcome & { cpu: Record<string, number>; rss: number };
type ContainerIds = Record<Measured, string[]>;

const containerIds = async (on: BenchStack): Promise<ContainerIds> => ({ server: await on.containers('server'), nginx: await on.containers('nginx'), webapp: await on.containers('webapp') });

/** One round of load: its outcome, the cores each group used meanwhile and the server's RSS. */
async function measureRound(ids: ContainerIds, load: Load): Promise<MeasuredRound> {
  const before = await cpuOf(ids);
  const startedAt = performance.now();
  const outcome = await load(seconds);
  const elapsed = (performance.now() - startedAt) / 1000;
  const after = await cpuOf(ids);
  const rss = Math.max(...(await Promise.all(ids.server.map(containerRssMb))));
  const cores = (seconds: number): number => Math.round((seconds / elapsed) * 100) / 100;
  const cpu: Record<string, number> = Object.fromEntries((['nginx', 'server', 'webapp', 'docker'] as const).map((name) => [name, cores(after[name] - before[name])]));
  cpu['load tool'] = cores(outcome.loadToolCpu);
  const attributed = (['nginx', 'server', 'webapp', 'docker'] as const).reduce((sum, name) => sum + (after[name] - before[name]), outcome.loadToolCpu);
  cpu['rest'] = cores(Math.max(0, after.machine - before.machine - attributed));
  process.stdout.write(`${outcome.rate}/s `);
  return { ...outcome, cpu, rss };
}

/** Rounds of one variant as one result: the median round's figures (or the rounds' means), errors summed, every round's rate. */
function variantResult(scenario: string, variant: string, measured: MeasuredRound[], summary: 'median' | 'mean' = 'median'): VariantResult {
  const median = medianRound(measured);
  const errors: Record<string, number> = {};
  for (const round of measured) for (const [code, count] of Object.entries(round.errors)) errors[code] = (errors[code] ?? 0) + count;
  const average = (of: (round: MeasuredRound) => number): number => measured.reduce((sum, round) => sum + of(round), 0) / measured.length;
  const figures =
    summary === 'median'
      ? { rate: median.rate, p50: median.p50, p90: median.p90, p99: median.p99, cpu: median.cpu }
      : { rate: Math.round(average((round) => round.rate)), p50: average((round) => round.p50), p90: average((round) => round.p90), p99: average((round) => round.p99), cpu: Object.fromEntries(Object.keys(median.cpu).map((name) => [name, Math.round(average((round) => round.cpu[name] ?? 0) * 100) / 100])) };
  return { scenario, variant, ...figures, errors, serverRssMb: Math.max(...measured.map((m) => m.rss)), extra: median.extra, rounds: measured.map((m) => m.rate) };
}

async function measure(scenario: string, variant: string, settings: StackSettings, load: Load, options: { countConnections?: boolean; rounds?: number } = {}): Promise<VariantResult> {
  process.stdout.write(`${scenario} / ${variant}: `);
  await stack.configure(settings);
  if (warmupSeconds > 0) await load(warmupSeconds);
  const ids = await containerIds(stack);
  const measured: MeasuredRound[] = [];
  for (let round = 0; round < (options.rounds ?? rounds); round++) {
    const since = new Date().toISOString();
    const outcome = await measureRound(ids, load);
    // The RSS target is about the shipped server settings; scenario 9 changes them on purpose.
    if (settings.serverNodeOptions === undefined) largestServerRss = Math.max(largestServerRss, outcome.rss);
    if (options.countConnections) outcome.extra['client connections'] = await clientConnectionsSince(since);
    measured.push(outcome);
  }
  const result = variantResult(scenario, variant, measured);
  results.push(result);
  process.stdout.write('\n');
  return result;
}

const questions: Record<string, string> = {
  '1. The nginx mTLS hop': 'RollDie straight to the server over h2c, and through nginx with mutual TLS, at the same concurrency (32 calls in flight on 2 channels).',
  '2. Connection reuse to the backend': 'Through nginx (32 in flight, 2 channels): upstream keepalive on (shipped) and off; calls per client connection (keepalive_requests) at nginx\'s default 1000 and at the shipped 100000, with the client connections counted from nginx\'s log.',
  '3. The web app\'s shared channel': '/api/roll on the one shared channel, the same with a new channel and TLS handshake per request (the original tutorial\'s pattern), and a hello-world route of the same app (the web tier\'s ceiling); autocannon, 16 connections.',
  '4. New mTLS clients per second': 'A new connection per call (TLS handshake with client certificate, one RollDie, close), 16 at a time, ECDSA P-256 and RSA-2048 certificates, TLS session resumption off and on; and grpc-js with a new channel per call.',
  '5. Replicas and nginx workers on 2 cores': 'Through nginx, 64 in flight on 2 channels: one or two server replicas, nginx worker_processes 1 or auto (2).',
  '6. End to end at a steady rate': 'GET /api/roll at 200 requests/s (autocannon, 8 connections): browser to web app to nginx to server and back.',
  '7. Logging': 'RollDie through nginx as in 1, and GET /api/roll as in 3: the shipped logging (nginx access log buffered 64 KB / 1 s, services writing 4 KB chunks), every line written at once (EDGE_ACCESS_LOG=unbuffered, LOG_BUFFER_BYTES=0: the logging before this change), every per-call line off (EDGE_ACCESS_LOG=off, LOG_LEVEL=warn), and the shipped logging on Docker\'s local log driver instead of json-file.',
  '10. Server implementations behind the same nginx': 'Through nginx as in 1: this project\'s server, a bare grpc-js server (RollDie and health only: bench/peers/bare-server.mjs, same image), and a minimal grpc-go server with a log line per call, as the original tutorial\'s (backends/go/dice-peer, built from Debian\'s Go packages with the second backend).',
  '11. The shipped rate limit': 'With the per-certificate rate limit at its shipped default instead of off: RollDie through nginx from one client certificate at full speed (32 in flight), and GET /api/roll at full speed (the web app holds one certificate).',
  '9. Server memory': 'Through nginx as in 1: the server with the shipped NODE_OPTIONS (--max-semi-space-size=4) and with V8\'s defaults, which size the young generation from the host\'s memory.',
  '8. 10,000 calls on one channel': 'One grpc-js channel through nginx, 32 in flight, retries off, 10,000 calls per round.',
  '13. Two backends behind one edge': 'RollDie of the dice server and echo.v1.Echo/Unary of the Go backend (backends/go, 16-byte payload), each straight over h2c and through the edge (32 in flight, 2 channels): the edge priced per backend, in calls/s and in nginx CPU per call. RollDie with EDGE_ACCESS_POLICY naming the caller (its certificate read by njs on every call), and through the edge as it was before routes.yaml (BENCH_BASELINE_EDGE, one location per service): each run twice, alternating with runs of the shipped edge, compared by their means.',
  '12. Tracing': 'RollDie through nginx as in 1, and GET /api/roll as in 3, with tracing off (shipped), and on (OTLP/gRPC to a receiver of the bench\'s own on this machine, e2e/compose.tracing.yml: batches every 200 ms) with parentbased_traceidratio at 0.01 and at 1. Three stacks side by side, one per mode, each paused while it waits; each round loads each in turn (the order turning every round), BENCH_TRACING_ROUNDS rounds (10): each mode is the mean of its rounds, each ratio the median of the rounds\' ratios, so the machine\'s drift falls on all modes alike. The CPU per call of the web app and the server says what tracing costs each.',
};

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
/** The rounds of two variants, and whether they overlap: a missed ratio that noise may explain says so. */
const spread = (a: VariantResult, b: VariantResult): string => {
  const [aLow, aHigh, bLow, bHigh] = [Math.min(...a.rounds), Math.max(...a.rounds), Math.min(...b.rounds), Math.max(...b.rounds)];
  const overlap = aLow <= bHigh && bLow <= aHigh;
  return `${overlap ? 'the rounds overlap, noise on 2 saturated cores: ' : 'rounds '}${aLow}–${aHigh} against ${bLow}–${bHigh} calls/s`;
};

/** The per-certificate rate limit docker-compose.yml ships (EDGE_RATE_LIMIT's default). */
function shippedRateLimit(): string {
  const limit = /EDGE_RATE_LIMIT: \$\{EDGE_RATE_LIMIT:-([^}]+)\}/.exec(readFileSync(`${repoRoot}docker-compose.yml`, 'utf8'))?.[1];
  if (!limit) throw new Error('docker-compose.yml names no default EDGE_RATE_LIMIT');
  return limit;
}

/**
 * Makes `total` RollDie calls through nginx with the shipped logging, every one with the same
 * request id, then counts the lines nginx's access log and the server's log hold for it (waiting
 * for the buffers to be written): how many calls have no line.
 */
async function linesLost(total: number): Promise<{ nginx: number; server: number }> {
  await stack.configure(shipped);
  const requestId = `log-count-${Date.now()}`;
  const since = new Date(Date.now() - 2000).toISOString();
  const result = await runGrpcLoad({ target: stack.edgeAddress(), tls: tlsFor(ecdsa), mode: 'shared', concurrency: 32, connections: 2, totalCalls: total, durationMs: 120_000, warmupMs: 0, metadata: { [metadataKeys.requestId]: requestId } });
  const { calls } = result;
  const count = async (service: Service, key: string): Promise<number> => (await stack.logsSince(service, since)).split('\n').filter((line) => line.includes(`"${key}":"${requestId}"`)).length;
  let lines = { nginx: 0, server: 0 };
  // Buffers are written within a second; give them a few.
  for (let attempt = 0; attempt < 10; attempt++) {
    lines = { nginx: await count('nginx', 'request_id'), server: await count('server', 'requestId') };
    if (lines.nginx >= calls && lines.server >= calls) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { nginx: calls - lines.nginx, server: calls - lines.server };
}

try {
  await stack.configure(shipped);
  // Addresses are read when each load starts: a change of settings can move the published ports.
  const viaEdge = (on: BenchStack) => ({ target: on.edgeAddress(), tls: tlsFor(ecdsa), mode: 'shared' as const, concurrency: 32, connections: 2 });
  const throughEdge = (extra: Partial<Omit<GrpcLoadOptions, 'durationMs' | 'warmupMs'>> = {}, on: BenchStack = stack) => grpcLoad(async () => ({ ...viaEdge(on), ...extra }));

  const targets: Target[] = [];
  // BENCH_ONLY=12 runs the tracing scenario alone (its report names only it).
  if (benchOnly !== undefined && benchOnly !== '12' && benchOnly !== '13') throw new Error(`BENCH_ONLY takes 12 (tracing), 13 (two backends) or nothing, not '${benchOnly}'`);
  if (benchOnly === undefined) {
    const s1 = '1. The nginx mTLS hop';
    const directResult = await measure(s1, 'direct h2c to the server', shipped, grpcLoad(async () => ({ target: stack.directServerAddress(), mode: 'shared', concurrency: 32, connections: 2, metadata: edgeIdentityMetadata(ecdsa) })));
    const edgeResult = await measure(s1, 'through nginx, mTLS', shipped, throughEdge());

    // 10 and 11 run early: they swap the server and turn the rate limit on, and fail fast if they cannot.
    const s10 = '10. Server implementations behind the same nginx';
    const projectServer = await measure(s10, "this project's server", shipped, throughEdge());
    const bareServer = await measure(s10, 'bare grpc-js', { ...shipped, serverPeer: 'bare-grpc-js' }, throughEdge());
    const goServer = await measure(s10, 'grpc-go', { ...shipped, serverPeer: 'grpc-go' }, throughEdge());

    const s11 = '11. The shipped rate limit';
    const limited = { ...shipped, rateLimit: shippedRateLimit() };
    const limitedGrpc = await measure(s11, `RollDie from one certificate, rate limit ${limited.rateLimit}`, limited, throughEdge());
    const limitedApi = await measure(s11, `/api/roll, rate limit ${limited.rateLimit}`, limited, httpLoad('/api/roll', 16));

    const s2 = '2. Connection reuse to the backend';
    await measure(s2, 'upstream keepalive 32 (shipped)', shipped, throughEdge());
    await measure(s2, 'upstream keepalive off', { ...shipped, upstreamKeepalive: 0 }, throughEdge());
    await measure(s2, 'keepalive_requests 1000 (nginx default)', { ...shipped, keepaliveRequests: 1000 }, throughEdge(), { countConnections: true });
    await measure(s2, 'keepalive_requests 100000 (shipped)', shipped, throughEdge(), { countConnections: true });

    const s3 = "3. The web app's shared channel";
    const sharedChannel = await measure(s3, '/api/roll, shared channel', shipped, httpLoad('/api/roll', 16));
    const channelPerRequest = await measure(s3, '/api/roll, new channel per request', shipped, httpLoad('/bench/roll-new-channel', 16));
    const hello = await measure(s3, 'hello-world route', shipped, httpLoad('/bench/hello', 16));

    const s4 = '4. New mTLS clients per second';
    for (const [name, dir] of [['ECDSA P-256', ecdsa], ['RSA-2048', rsa]] as const) {
      for (const resume of [false, true]) {
        await measure(s4, `${name}, resumption ${resume ? 'on' : 'off'}`, { ...shipped, certsDir: dir }, throughEdge({ tls: tlsFor(dir), mode: 'connection-per-call', concurrency: 16, connections: 1, resume }));
      }
    }
    await measure(s4, 'ECDSA P-256, grpc-js new channel per call', shipped, throughEdge({ mode: 'channel-per-call', concurrency: 16, connections: 1 }));

    const s5 = '5. Replicas and nginx workers on 2 cores';
    for (const replicas of [1, 2]) {
      for (const workers of ['1', 'auto']) {
        await measure(s5, `${replicas} replica${replicas > 1 ? 's' : ''}, nginx workers ${workers}`, { ...shipped, replicas, workers }, throughEdge({ concurrency: 64 }));
      }
    }

    const s6 = '6. End to end at a steady rate';
    await measure(s6, 'GET /api/roll at 200/s', shipped, httpLoad('/api/roll', 8, 200));

    const s7 = '7. Logging';
    const everyLineAtOnce: Partial<StackSettings> = { edgeAccessLog: 'unbuffered', logBufferBytes: 0 };
    const noCallLines: Partial<StackSettings> = { edgeAccessLog: 'off', serverLogLevel: 'warn', webappLogLevel: 'warn' };
    const loggedRollDie = await measure(s7, 'RollDie, shipped logging', shipped, throughEdge());
    await measure(s7, 'RollDie, every line written at once (before)', { ...shipped, ...everyLineAtOnce }, throughEdge());
    const unloggedRollDie = await measure(s7, 'RollDie, per-call logging off', { ...shipped, ...noCallLines }, throughEdge());
    await measure(s7, "RollDie, shipped logging, Docker's local log driver", { ...shipped, logDriver: 'local' }, throughEdge());
    const loggedApi = await measure(s7, '/api/roll, shipped logging', shipped, httpLoad('/api/roll', 16));
    await measure(s7, '/api/roll, every line written at once (before)', { ...shipped, ...everyLineAtOnce }, httpLoad('/api/roll', 16));
    const unloggedApi = await measure(s7, '/api/roll, per-call logging off', { ...shipped, ...noCallLines }, httpLoad('/api/roll', 16));
    await measure(s7, "/api/roll, shipped logging, Docker's local log driver", { ...shipped, logDriver: 'local' }, httpLoad('/api/roll', 16));
    const lost = await linesLost(20_000);
    process.stdout.write(`log lines for 20,000 calls: ${JSON.stringify(lost)}\n`);

    const s8 = '8. 10,000 calls on one channel';
    const tenThousand = await measure(s8, '10,000 calls, one channel', shipped, throughEdge({ connections: 1, threads: 1, totalCalls: 10_000 }));

    const s9 = '9. Server memory';
    await measure(s9, 'NODE_OPTIONS=--max-semi-space-size=4 (shipped)', shipped, throughEdge());
    await measure(s9, "V8's defaults (NODE_OPTIONS empty)", { ...shipped, serverNodeOptions: ' ' }, throughEdge());


    targets.push(
      { name: 'through nginx mTLS vs direct h2c (throughput)', value: ratio(edgeResult.rate, directResult.rate), goal: 0.6, atLeast: true, unit: '×', limitedBy: "nginx's TLS and the load tool's share the same 2 cores (see the CPU columns)" },
      { name: 'shared channel vs channel per request (requests/s)', value: Math.round((sharedChannel.rate / channelPerRequest.rate) * 10) / 10, goal: 5, atLeast: true, unit: '×' },
      { name: 'shared channel p99 / channel-per-request p99', value: Math.round((sharedChannel.p99 / channelPerRequest.p99) * 100) / 100, goal: 0.2, atLeast: false, unit: '×' },
      { name: '/api/roll vs hello-world route (requests/s)', value: ratio(sharedChannel.rate, hello.rate), goal: 0.3, atLeast: true, unit: '×', limitedBy: 'each /api/roll is a gRPC call through TLS, nginx and the server, on the cores the load tool uses too' },
      { name: 'errors in 10,000 calls on one channel (per round)', value: Object.values(tenThousand.errors).reduce((a, b) => a + b, 0), goal: 0, atLeast: false, unit: '' },
      { name: 'largest server RSS under load (shipped server settings)', value: largestServerRss, goal: 120, atLeast: false, unit: ' MB', limitedBy: "V8's old space under load (the server idles at about 90 MB); an old-space cap would risk running out of memory in a burst" },
      { name: 'RollDie through nginx: shipped logging vs per-call logging off', value: ratio(loggedRollDie.rate, unloggedRollDie.rate), goal: 0.85, atLeast: true, unit: '×', limitedBy: spread(loggedRollDie, unloggedRollDie) },
      { name: '/api/roll: shipped logging vs per-call logging off', value: ratio(loggedApi.rate, unloggedApi.rate), goal: 0.85, atLeast: true, unit: '×', limitedBy: spread(loggedApi, unloggedApi) },
      { name: 'log lines lost for 20,000 calls (nginx + server)', value: lost.nginx + lost.server, goal: 0, atLeast: false, unit: '' },
      { name: "this project's server vs bare grpc-js, behind the same nginx", value: ratio(projectServer.rate, bareServer.rate), goal: 0.85, atLeast: true, unit: '×', limitedBy: `${spread(projectServer, bareServer)}; make profile shows where the server's time goes` },
      { name: "this project's server vs grpc-go, behind the same nginx", value: ratio(projectServer.rate, goServer.rate), goal: 0.6, atLeast: true, unit: '×', limitedBy: "grpc-js and Node's HTTP/2 (make profile): the project's own code is a small part of the server's time" },
      { name: 'RESOURCE_EXHAUSTED or 503s at full speed with the shipped rate limit', value: (limitedGrpc.errors['RESOURCE_EXHAUSTED'] ?? 0) + (limitedApi.errors['non-2xx'] ?? 0), goal: 0, atLeast: false, unit: '' },
      );
  }

  if (benchOnly === undefined || benchOnly === '13') {
    buildBaselineEdge(baselineEdgeRevision);
    const s13 = '13. Two backends behind one edge';
    const diceDirect = await measure(s13, 'dice RollDie, direct h2c', shipped, grpcLoad(async () => ({ target: stack.directServerAddress(), mode: 'shared', concurrency: 32, connections: 2, metadata: edgeIdentityMetadata(ecdsa) })));
    // The shipped edge and the two it is compared with alternate (A, B, A, C, A, B), so the machine's
    // drift over the minutes of the scenario falls on every variant alike; each is a mean of its runs.
    const baselineVariant = `dice RollDie, through the edge before routes.yaml (${baselineEdgeRevision})`;
    const policyVariant = 'dice RollDie, through the edge, EDGE_ACCESS_POLICY naming the caller';
    const withPolicy = { ...shipped, edgeAccessPolicy: 'api.DiceService/*=uri:spiffe://dice.example/other,cn:bench' };
    const diceEdgeRuns: VariantResult[] = [];
    const baselineRuns: VariantResult[] = [];
    const policyRuns: VariantResult[] = [];
    for (let pass = 1; pass <= 2; pass++) {
      diceEdgeRuns.push(await measure(s13, `dice RollDie, through the edge (run ${diceEdgeRuns.length + 1})`, shipped, throughEdge()));
      baselineRuns.push(await measure(s13, `${baselineVariant} (run ${pass})`, { ...shipped, edge: 'baseline' }, throughEdge()));
      diceEdgeRuns.push(await measure(s13, `dice RollDie, through the edge (run ${diceEdgeRuns.length + 1})`, shipped, throughEdge()));
      // Every call's certificate read by njs, its identities matched: the price of the edge's authorization.
      policyRuns.push(await measure(s13, `${policyVariant} (run ${pass})`, withPolicy, throughEdge()));
    }
    const echoDirect = await measure(s13, 'Go echo Unary, direct h2c', shipped, grpcLoad(async () => ({ target: stack.directEchoAddress(), mode: 'shared', concurrency: 32, connections: 2, call: 'EchoUnary' })));
    const echoEdge = await measure(s13, 'Go echo Unary, through the edge', shipped, throughEdge({ call: 'EchoUnary' }));
    const diceEdge = mean(diceEdgeRuns);
    const baseline = mean(baselineRuns);
    const authorized = mean(policyRuns);
    for (const result of [...diceEdgeRuns, ...baselineRuns, ...policyRuns, echoEdge]) result.extra['nginx µs/call'] = nginxMicrosPerCall(result);
    process.stdout.write(`means: dice through the edge ${diceEdge.rate}/s (nginx ${nginxMicrosPerCall(diceEdge)} µs/call), with the access policy ${authorized.rate}/s (${nginxMicrosPerCall(authorized)} µs), the edge before routes.yaml ${baseline.rate}/s (${nginxMicrosPerCall(baseline)} µs); Go echo ${echoEdge.rate}/s (${nginxMicrosPerCall(echoEdge)} µs)\n`);
    targets.push(
      { name: 'dice RollDie: through the edge vs direct h2c', value: ratio(diceEdge.rate, diceDirect.rate), goal: 0.6, atLeast: true, unit: '×', limitedBy: "nginx's TLS and the load tool's share the same 2 cores" },
      { name: 'Go echo Unary: through the edge vs direct h2c', value: ratio(echoEdge.rate, echoDirect.rate), goal: 0.6, atLeast: true, unit: '×', limitedBy: "the Go backend answers faster than the edge's TLS and proxying can pass calls on, so the edge is the whole price" },
      { name: 'RollDie: EDGE_ACCESS_POLICY naming the caller vs none (*=*), means of alternating runs', value: ratio(authorized.rate, diceEdge.rate), goal: 0.95, atLeast: true, unit: '×', limitedBy: `${spread(authorized, diceEdge)}; nginx CPU per call ${nginxMicrosPerCall(authorized)} against ${nginxMicrosPerCall(diceEdge)} µs` },
      { name: 'RollDie: rendered-routes edge vs the edge before routes.yaml, means of alternating runs', value: ratio(diceEdge.rate, baseline.rate), goal: 0.95, atLeast: true, unit: '×', limitedBy: `${spread(diceEdge, baseline)}; nginx CPU per call ${nginxMicrosPerCall(diceEdge)} against ${nginxMicrosPerCall(baseline)} µs` },
    );
  }

  if (benchOnly === undefined || benchOnly === '12') {
    const s12 = '12. Tracing';
    // One stack per mode, side by side (each its own compose project, paused but while loaded, so
    // the waiting ones and their health checks cost nothing): the load goes to each in turn for one
    // round, round after round, the order turning each time, so the machine's drift falls on all
    // three alike. A mode's result is the mean of its rounds; a ratio is the median of the rounds'
    // ratios, each taken between rounds seconds apart.
    const modes = [
      { name: 'tracing off (shipped)', settings: shipped },
      { name: 'tracing on, 1 % sampled', settings: { ...shipped, traceRatio: 0.01 } },
      { name: 'tracing on, every call sampled', settings: { ...shipped, traceRatio: 1 } },
    ].map((mode, index) => ({ ...mode, stack: new BenchStack(`dice-bench-tracing-${index}`) }));
    try {
      const calls = [
        { call: 'RollDie', load: (on: BenchStack) => throughEdge({}, on) },
        { call: '/api/roll', load: (on: BenchStack) => httpLoad('/api/roll', 16, undefined, on) },
      ];
      const byMode = new Map<string, MeasuredRound[]>();
      await stack.pause();
      for (const mode of modes) {
        await mode.stack.configure(mode.settings);
        for (const { load } of calls) if (warmupSeconds > 0) await load(mode.stack)(warmupSeconds);
        await mode.stack.pause();
      }
      const ids = await Promise.all(modes.map((mode) => containerIds(mode.stack)));
      for (let round = 0; round < tracingRounds; round++) {
        process.stdout.write(`${s12} / round ${round + 1} of ${tracingRounds}: `);
        for (const { call, load } of calls) {
          for (let turn = 0; turn < modes.length; turn++) {
            const index = (round + turn) % modes.length;
            const mode = modes[index] as (typeof modes)[number];
            const key = `${call}, ${mode.name}`;
            await mode.stack.unpause();
            byMode.set(key, [...(byMode.get(key) ?? []), await measureRound(ids[index] as ContainerIds, load(mode.stack))]);
            await mode.stack.pause();
          }
        }
        process.stdout.write('\n');
      }
      process.stdout.write(`spans the receivers were sent: ${modes.reduce((sum, mode) => sum + mode.stack.spansReceived(), 0)}\n`);
      const roundsOf = (call: string, index: number): MeasuredRound[] => byMode.get(`${call}, ${modes[index]?.name}`) ?? [];
      for (const { call } of calls) for (const [index, mode] of modes.entries()) results.push(variantResult(s12, `${call}, ${mode.name} (mean of ${tracingRounds} rounds)`, roundsOf(call, index), 'mean'));
      /** The median of the rounds' ratios of one mode to tracing off, and what each costs the web app and the server per call. */
      const against = (call: string, index: number): { value: number; limitedBy: string } => {
        const on = roundsOf(call, index);
        const off = roundsOf(call, 0);
        const ratios = on.map((round, i) => round.rate / (off[i]?.rate ?? NaN)).sort((a, b) => a - b);
        const middle = ratios.length % 2 === 1 ? (ratios[(ratios.length - 1) / 2] as number) : ((ratios[ratios.length / 2 - 1] as number) + (ratios[ratios.length / 2] as number)) / 2;
        const micros = (rounds: MeasuredRound[], group: string): number => Math.round((rounds.reduce((sum, round) => sum + (round.cpu[group] ?? 0) / Math.max(1, round.rate), 0) / rounds.length) * 1e6);
        return {
          value: Math.round(middle * 100) / 100,
          limitedBy: `rounds' ratios ${(ratios[0] ?? 0).toFixed(2)}–${(ratios[ratios.length - 1] ?? 0).toFixed(2)}; CPU per call: web app ${micros(on, 'webapp')} against ${micros(off, 'webapp')} µs, server ${micros(on, 'server')} against ${micros(off, 'server')} µs`,
        };
      };
      targets.push(
        { name: 'RollDie: tracing on, 1 % sampled vs off', ...against('RollDie', 1), goal: 0.95, atLeast: true, unit: '×' },
        { name: 'RollDie: tracing on, every call sampled vs off', ...against('RollDie', 2), goal: 0.8, atLeast: true, unit: '×' },
        { name: '/api/roll: tracing on, 1 % sampled vs off', ...against('/api/roll', 1), goal: 0.95, atLeast: true, unit: '×' },
        { name: '/api/roll: tracing on, every request sampled vs off', ...against('/api/roll', 2), goal: 0.8, atLeast: true, unit: '×' },
      );
    } finally {
      for (const mode of modes) await mode.stack.down();
      await stack.unpause();
    }
  }

  const [server] = await stack.containers('server');
  const [nginx] = await stack.containers('nginx');
  const inContainer = (id: string | undefined, ...command: string[]): string => execFileSync('docker', ['exec', id as string, ...command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const packageVersion = (name: string): string => (JSON.parse(readFileSync(`${repoRoot}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  const date = new Date().toISOString().slice(0, 10);
  const report = {
    date,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: String(cpus().length), memory: `${Math.round(totalmem() / 2 ** 30)} GiB`, kernel: release() },
    versions: {
      'server and web app Node': inContainer(server, 'node', '-v'),
      // nginx -v prints to stderr.
      nginx: inContainer(nginx, 'sh', '-c', 'nginx -v 2>&1'),
      'load tool Node': process.version,
      '@grpc/grpc-js': packageVersion('@grpc/grpc-js'),
      fastify: packageVersion('fastify'),
      autocannon: packageVersion('autocannon'),
      docker: execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim(),
    },
    method: [
      'The real images under Docker Compose (docker-compose.yml + bench/compose.bench.yml, project dice-bench), everything on this one machine: the load tools compete with the stack for the same cores, which is why their CPU is reported.',
      `Per variant: ${warmupSeconds} s warm-up, then ${rounds} rounds of ${seconds} s; the round with the median rate is quoted, errors are summed over all rounds.`,
      'gRPC load: bench/src/grpc-load.ts (grpc-js on worker threads, one per core, hdr histogram; no retries). HTTP load: autocannon.',
      'The per-certificate rate limit is off (EDGE_RATE_LIMIT=off): the bench measures capacity. Everything else is the shipped configuration unless the variant says otherwise.',
      'CPU: cores used during the round (cgroup CPU time / round time); load tool: its own process. Server RSS: VmRSS of the server process, largest over rounds.',
    ],
    questions,
    results,
    targets,
  };
  mkdirSync(`${repoRoot}bench/results`, { recursive: true });
  // A run of one scenario is named for it, so it never overwrites the day's whole run.
  const name = benchOnly === undefined ? date : `${date}-scenario-${benchOnly}`;
  writeFileSync(`${repoRoot}bench/results/${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${repoRoot}bench/results/${name}.md`, renderMarkdown(report));
  process.stdout.write(`\nreport: bench/results/${name}.md (and .json)\n`);
} finally {
  await stack.down();
}
