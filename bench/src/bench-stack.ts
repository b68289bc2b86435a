import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dockerHostGatewayAddress, startOtlpReceiver, type OtlpReceiver } from '../../e2e/support/otlp-receiver.ts';
import { repoRoot, startStack, type Service, type Stack } from '../../e2e/support/stack.ts';

const run = promisify(execFile);
export { repoRoot, type Service };

/** The knobs the scenarios turn; everything else is the shipped docker-compose.yml. */
export interface StackSettings {
  replicas: number;
  /** EDGE_WORKER_PROCESSES */
  workers: string;
  /** EDGE_UPSTREAM_KEEPALIVE: idle upstream connections per nginx worker, 0 for none. */
  upstreamKeepalive: number;
  /** EDGE_KEEPALIVE_REQUESTS */
  keepaliveRequests: number;
  certsDir: string;
  serverLogLevel: string;
  /** SERVER_NODE_OPTIONS; undefined keeps the compose default. */
  serverNodeOptions?: string | undefined;
  /** EDGE_ACCESS_LOG; undefined keeps the shipped buffered log. */
  edgeAccessLog?: 'buffered' | 'unbuffered' | 'off' | undefined;
  /** LOG_BUFFER_BYTES of both services; undefined keeps the default. */
  logBufferBytes?: number | undefined;
  /** WEBAPP_LOG_LEVEL; undefined keeps the default. */
  webappLogLevel?: string | undefined;
  /** Docker's log driver for every container (LOG_DRIVER); undefined keeps the shipped one. */
  logDriver?: 'json-file' | 'local' | undefined;
  /** EDGE_RATE_LIMIT; undefined is off (the bench measures capacity). */
  rateLimit?: string | undefined;
  /** Which server runs behind nginx: the project's (default), bare grpc-js, or the grpc-go peer. */
  serverPeer?: 'project' | 'bare-grpc-js' | 'grpc-go' | undefined;
  /** EDGE_ACCESS_POLICY; undefined keeps the shipped `*=*` (no certificate read per call). */
  edgeAccessPolicy?: string | undefined;
  /** The edge: the shipped one, or the baseline built from BENCH_BASELINE_EDGE (bench/compose.bench-edge-baseline.yml). */
  edge?: 'shipped' | 'baseline' | undefined;
  /** Tracing on, to the bench's OTLP receiver, with this OTEL_TRACES_SAMPLER_ARG for parentbased_traceidratio; undefined is off (shipped). */
  traceRatio?: number | undefined;
}

/** The compose file that swaps in each server peer (bench/peers/). */
const peerOverrides: Record<NonNullable<StackSettings['serverPeer']>, string[]> = {
  project: [],
  'bare-grpc-js': ['bench/compose.bench-bare.yml'],
  'grpc-go': ['bench/compose.bench-go.yml'],
};

/**
 * The stack under test, on the driver the e2e suite uses (e2e/support/stack.ts): docker-compose.yml plus
 * bench/compose.bench.yml (the server's h2c port on loopback for the direct scenario, replicas
 * from SERVER_REPLICAS) as project dice-bench, with the web app's bench routes on and the
 * per-certificate rate limit off (the bench measures capacity). Addresses come from the driver
 * and are read again after each change of settings, since recreated containers get new ports.
 */
export class BenchStack {
  /** The compose project: stacks with different names run side by side (scenario 12). */
  private readonly projectName: string;

  constructor(projectName = 'dice-bench') {
    this.projectName = projectName;
  }

  private stack: Stack | undefined;
  private settings: StackSettings | undefined;
  /** Where the services send their spans while tracing is on: counted, not kept. */
  private receiver: OtlpReceiver | undefined;

  private env(settings: StackSettings): Record<string, string> {
    return {
      BENCH_ROUTES: 'on',
      EDGE_RATE_LIMIT: settings.rateLimit ?? 'off',
      SERVER_REPLICAS: String(settings.replicas),
      EDGE_WORKER_PROCESSES: settings.workers,
      EDGE_UPSTREAM_KEEPALIVE: String(settings.upstreamKeepalive),
      EDGE_KEEPALIVE_REQUESTS: String(settings.keepaliveRequests),
      CERTS_DIR: settings.certsDir,
      SERVER_LOG_LEVEL: settings.serverLogLevel,
      // Every variable every time, empty (the shipped default) when a setting is unset: a stack
      // brought to new settings keeps the variables it was started with unless they are given again.
      SERVER_NODE_OPTIONS: settings.serverNodeOptions ?? '',
      EDGE_ACCESS_LOG: settings.edgeAccessLog ?? '',
      LOG_BUFFER_BYTES: settings.logBufferBytes === undefined ? '' : String(settings.logBufferBytes),
      WEBAPP_LOG_LEVEL: settings.webappLogLevel ?? '',
      LOG_DRIVER: settings.logDriver ?? '',
      EDGE_ACCESS_POLICY: settings.edgeAccessPolicy ?? '',
      OTEL_TRACES_SAMPLER: settings.traceRatio === undefined ? '' : 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: settings.traceRatio === undefined ? '' : String(settings.traceRatio),
      ...(this.receiver ? { OTLP_RECEIVER_PORT: String(this.receiver.port) } : {}),
    };
  }

  private get running(): Stack {
    if (!this.stack) throw new Error('the bench stack is not up');
    return this.stack;
  }

  /** Builds and starts the stack, or brings it to these settings (containers whose settings changed are recreated). */
  async configure(settings: StackSettings): Promise<void> {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    // Another server peer, or tracing on or off, is another set of compose files: a new stack.
    const files = (of: StackSettings | undefined) => `${of?.serverPeer ?? 'project'} ${of?.traceRatio !== undefined} ${of?.edge ?? 'shipped'}`;
    if (this.stack && files(settings) !== files(this.settings)) {
      await this.stack.down();
      this.stack = undefined;
    }
    if (settings.traceRatio !== undefined) this.receiver ??= await startOtlpReceiver(dockerHostGatewayAddress(), { keepSpans: false });
    const overrides = ['bench/compose.bench.yml', ...peerOverrides[settings.serverPeer ?? 'project'], ...(settings.traceRatio === undefined ? [] : ['e2e/compose.tracing.yml']), ...(settings.edge === 'baseline' ? ['bench/compose.bench-edge-baseline.yml'] : [])];
    this.stack = this.stack ? await this.stack.update(this.env(settings)) : await startStack({ env: this.env(settings), overrides, projectName: this.projectName });
    this.settings = settings;
  }

  private paused = false;

  /** Freezes every container (docker compose pause): a stack waiting its turn costs the machine nothing, health checks included. */
  async pause(): Promise<void> {
    await this.running.compose('pause');
    this.paused = true;
  }

  async unpause(): Promise<void> {
    if (!this.paused) return;
    await this.running.compose('unpause');
    this.paused = false;
  }

  async down(): Promise<void> {
    // A frozen container would not see the SIGTERM that stops it.
    await this.unpause().catch(() => {});
    await this.stack?.down();
    await this.receiver?.stop();
  }

  /** Spans the receiver has been sent so far. */
  spansReceived(): number {
    return this.receiver?.received ?? 0;
  }

  containers(service: Service): Promise<string[]> {
    return this.running.containers(service);
  }

  /** host:port of nginx's gRPC port. */
  edgeAddress(): string {
    return this.running.edgeAddress;
  }

  webappUrl(): string {
    return this.running.webappUrl;
  }

  /** host:port of the Go backend's h2c port, published on loopback (bench/compose.bench.yml). */
  directEchoAddress(): string {
    return this.running.address('echo', 50061);
  }

  /** host:port of the first server replica's h2c port, published on loopback for the direct scenario. */
  directServerAddress(): string {
    return this.running.address('server', 50051);
  }

  /** Log lines of a service since an ISO time. */
  async logsSince(service: Service, since: string): Promise<string> {
    const ids = await this.containers(service);
    const logs = await Promise.all(ids.map((id) => this.running.logs(id, { since, stream: 'stdout' })));
    return logs.join('\n');
  }
}

/** CPU seconds a container has used so far (its cgroup: v1 or v2, whichever the host has). */
export async function containerCpuSeconds(id: string): Promise<number> {
  const candidates: [string, (text: string) => number][] = [
    [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, (text) => Number(text) / 1e9],
    [`/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`, (text) => Number(text) / 1e9],
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, usageFromCpuStat],
    [`/sys/fs/cgroup/docker/${id}/cpu.stat`, usageFromCpuStat],
  ];
  for (const [path, parse] of candidates) {
    try {
      return parse(await readFile(path, 'utf8'));
    } catch {
      // not this layout
    }
  }
  // Inside the container its own cgroup is at the root of /sys/fs/cgroup.
  const { stdout } = await run('docker', ['exec', id, 'cat', '/sys/fs/cgroup/cpu.stat']);
  return usageFromCpuStat(stdout);
}

function usageFromCpuStat(text: string): number {
  const match = /^usage_usec (\d+)$/m.exec(text);
  if (!match) throw new Error('no usage_usec in cpu.stat');
  return Number(match[1]) / 1e6;
}

/** The processes outside the containers that every logged line and proxied byte passes through. */
const hostProcesses = ['dockerd', 'containerd', 'containerd-shim', 'docker-proxy'] as const;
export type HostProcess = (typeof hostProcesses)[number];

/** CPU seconds used so far by Docker's own processes on this host, by name (every shim summed). */
export async function hostProcessCpuSeconds(): Promise<Record<HostProcess, number>> {
  const totals = Object.fromEntries(hostProcesses.map((name) => [name, 0])) as Record<HostProcess, number>;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // comm is cut at 15 characters: containerd-shim-runc-v2 reads as containerd-shim.
      const known = hostProcesses.find((candidate) => name === candidate || (candidate === 'containerd-shim' && name.startsWith('containerd-shim')));
      if (!known) continue;
      totals[known] += cpuSecondsFromStat(stat);
    } catch {
      // the process ended while we looked
    }
  }
  return totals;
}

/** utime + stime of a process, from the text of its /proc/<pid>/stat (after the command name, which may hold spaces). */
export function cpuSecondsFromStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the whole machine has been busy (every core, every process and the kernel), from /proc/stat. */
export async function machineBusySeconds(): Promise<number> {
  const [cpu] = (await readFile('/proc/stat', 'utf8')).split('\n');
  const [, user, nice, system, , , irq, softirq, steal] = (cpu ?? '').trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
}
