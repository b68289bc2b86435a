import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { repoRoot, startStack, type Service, type Stack } from '../../e2e/stack.ts';

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
}

/**
 * The stack under test, on the driver the e2e suite uses (e2e/stack.ts): docker-compose.yml plus
 * bench/compose.bench.yml (the server's h2c port on loopback for the direct scenario, replicas
 * from SERVER_REPLICAS) as project dice-bench, with the web app's bench routes on and the
 * per-certificate rate limit off (the bench measures capacity). Addresses come from the driver
 * and are read again after each change of settings, since recreated containers get new ports.
 */
export class BenchStack {
  private stack: Stack | undefined;
  private settings: StackSettings | undefined;

  private env(settings: StackSettings): Record<string, string> {
    return {
      BENCH_ROUTES: 'on',
      EDGE_RATE_LIMIT: 'off',
      SERVER_REPLICAS: String(settings.replicas),
      EDGE_WORKER_PROCESSES: settings.workers,
      EDGE_UPSTREAM_KEEPALIVE: String(settings.upstreamKeepalive),
      EDGE_KEEPALIVE_REQUESTS: String(settings.keepaliveRequests),
      CERTS_DIR: settings.certsDir,
      SERVER_LOG_LEVEL: settings.serverLogLevel,
      SERVER_NODE_OPTIONS: settings.serverNodeOptions ?? '--max-semi-space-size=4',
    };
  }

  private get running(): Stack {
    if (!this.stack) throw new Error('the bench stack is not up');
    return this.stack;
  }

  /** Builds and starts the stack, or brings it to these settings (containers whose settings changed are recreated). */
  async configure(settings: StackSettings): Promise<void> {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    this.stack = this.stack ? await this.stack.update(this.env(settings)) : await startStack({ env: this.env(settings), overrides: ['bench/compose.bench.yml'], projectName: 'dice-bench' });
    this.settings = settings;
  }

  async down(): Promise<void> {
    await this.stack?.down();
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

  /** host:port of the first server replica's h2c port, published on loopback for the direct scenario. */
  directServerAddress(): string {
    return this.running.address('server', 50051);
  }

  /** Log lines of a service since an ISO time. */
  async logsSince(service: Service, since: string): Promise<string> {
    const ids = await this.containers(service);
    const logs = await Promise.all(ids.map(async (id) => (await run('docker', ['logs', '--since', since, id], { maxBuffer: 512 * 1024 * 1024 })).stdout));
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

/** Resident memory of the container's main process, in MB. */
export async function containerRssMb(id: string): Promise<number> {
  const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Pid}}', id]);
  const status = await readFile(`/proc/${stdout.trim()}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Math.round(kb / 102.4) / 10;
}
