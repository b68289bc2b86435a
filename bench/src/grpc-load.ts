import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';

/** How each call gets its connection. */
export type ConnectionMode =
  /** `connections` long-lived grpc-js channels, calls spread over them (how a service should call). */
  | 'shared'
  /** A new grpc-js channel (connection, TLS handshake) per call, closed after it. */
  | 'channel-per-call'
  /** A new HTTP/2 + TLS connection per call with node:http2, resuming the TLS session when `resume`. */
  | 'connection-per-call';

export interface GrpcLoadOptions {
  /** host:port */
  target: string;
  /** mTLS files; plaintext h2c when absent. */
  tls?: { ca: string; cert: string; key: string; serverName: string } | undefined;
  mode: ConnectionMode;
  /** Calls in flight at any time, over all threads. */
  concurrency: number;
  /** Long-lived channels in 'shared' mode, over all threads. */
  connections: number;
  durationMs: number;
  /** Calls made before this are not counted. */
  warmupMs: number;
  /** TLS session resumption in 'connection-per-call' mode. */
  resume?: boolean;
  /** Metadata sent with every call (the direct scenario sends what nginx would add). */
  metadata?: Record<string, string> | undefined;
  /** Stop after this many counted calls (over all threads) instead of at the end of the duration. */
  totalCalls?: number | undefined;
  /** Worker threads; default: one per core, at most `concurrency`. */
  threads?: number;
  /** The call: the dice service's RollDie (default) or the Go backend's echo.v1.Echo/Unary with a 16-byte payload ('shared' mode). */
  call?: 'RollDie' | 'EchoUnary';
}

/** What one worker reports back. */
export interface WorkerResult {
  calls: number;
  errors: Record<string, number>;
  /** Connections whose TLS session was resumed ('connection-per-call'). */
  resumed: number;
  /** hdr histogram of call latency in microseconds, compressed. */
  histogram: string;
  elapsedMs: number;
}

export interface GrpcLoadResult {
  callsPerSecond: number;
  calls: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  errors: Record<string, number>;
  resumed: number;
  /** CPU seconds the load tool itself used (all its threads), to see when it was the bottleneck. */
  loadToolCpuSeconds: number;
}

/** Splits n into `parts` near-equal whole shares, none zero when n >= parts. */
export function share(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

/** Runs the load on worker threads (so the tool is not limited to one core) and merges their results. */
export async function runGrpcLoad(options: GrpcLoadOptions): Promise<GrpcLoadResult> {
  const threads = Math.max(1, Math.min(options.threads ?? cpus().length, options.concurrency));
  const concurrencies = share(options.concurrency, threads);
  const connections = share(Math.max(options.connections, threads), threads);
  const totals = options.totalCalls === undefined ? undefined : share(options.totalCalls, threads);
  const cpuBefore = process.cpuUsage();
  const results = await Promise.all(
    concurrencies.map(
      (concurrency, i) =>
        new Promise<WorkerResult>((resolve, reject) => {
          const worker = new Worker(new URL('./grpc-load-worker.ts', import.meta.url), {
            workerData: { ...options, concurrency, connections: connections[i], totalCalls: totals?.[i] },
          });
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
        }),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const errors: Record<string, number> = {};
  let calls = 0;
  let resumed = 0;
  for (const result of results) {
    histogram.add(hdr.decodeFromCompressedBase64(result.histogram));
    calls += result.calls;
    resumed += result.resumed;
    for (const [code, count] of Object.entries(result.errors)) errors[code] = (errors[code] ?? 0) + count;
  }
  const elapsedMs = Math.max(...results.map((result) => result.elapsedMs));
  const ms = (percentile: number): number => Math.round(histogram.getValueAtPercentile(percentile)) / 1000;
  return {
    callsPerSecond: Math.round((calls / elapsedMs) * 1000),
    calls,
    p50: ms(50),
    p90: ms(90),
    p99: ms(99),
    errors,
    resumed,
    loadToolCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
