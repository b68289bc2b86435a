import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

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

export const edgePort = 19443;
export const webappPort = 18000;

export type Service = 'server' | 'nginx' | 'webapp';

/**
 * The stack under test: docker-compose.yml plus bench/compose.bench.yml (the server's h2c port on
 * loopback, for the direct scenario) under its own project name and ports, with the web app's
 * bench routes on and the per-certificate rate limit off (the bench measures capacity).
 */
export class BenchStack {
  readonly project = 'dice-bench';
  private settings: StackSettings | undefined;

  private env(settings: StackSettings): Record<string, string> {
    return {
      NGINX_PUBLISH: `127.0.0.1:${edgePort}`,
      WEBAPP_PUBLISH: `127.0.0.1:${webappPort}`,
      BENCH_ROUTES: 'on',
      EDGE_RATE_LIMIT: 'off',
      EDGE_WORKER_PROCESSES: settings.workers,
      EDGE_UPSTREAM_KEEPALIVE: String(settings.upstreamKeepalive),
      EDGE_KEEPALIVE_REQUESTS: String(settings.keepaliveRequests),
      CERTS_DIR: settings.certsDir,
      SERVER_LOG_LEVEL: settings.serverLogLevel,
      ...(settings.serverNodeOptions === undefined ? {} : { SERVER_NODE_OPTIONS: settings.serverNodeOptions }),
    };
  }

  async compose(settings: StackSettings, ...args: string[]): Promise<string> {
    const { stdout } = await run('docker', ['compose', '--project-directory', repoRoot, '-f', `${repoRoot}docker-compose.yml`, '-f', `${repoRoot}bench/compose.bench.yml`, '-p', this.project, ...args], {
      env: { ...process.env, ...this.env(settings) },
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  }

  /** Brings the stack to these settings; containers whose settings changed are recreated. */
  async configure(settings: StackSettings): Promise<void> {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    await this.compose(settings, 'up', '--detach', '--wait', '--scale', `server=${settings.replicas}`);
    this.settings = settings;
  }

  async build(settings: StackSettings): Promise<void> {
    await this.compose(settings, 'build');
  }

  async down(): Promise<void> {
    if (!this.settings) return;
    await this.compose(this.settings, 'down', '--remove-orphans', '--timeout', '5');
  }

  async containers(service: Service): Promise<string[]> {
    if (!this.settings) throw new Error('the bench stack is not up');
    return (await this.compose(this.settings, 'ps', '--quiet', service)).trim().split('\n').filter(Boolean);
  }

  /** host:port of the first server replica's h2c port, published on loopback for the direct scenario. */
  async directServerAddress(): Promise<string> {
    const [server] = await this.containers('server');
    const { stdout } = await run('docker', ['port', server as string, '50051/tcp']);
    const address = stdout.trim().split('\n').find((line) => line.startsWith('127.0.0.1:'));
    if (!address) throw new Error(`the server's port 50051 is not published on loopback: ${stdout}`);
    return address;
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
