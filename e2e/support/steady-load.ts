import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as hdr from 'hdr-histogram-js';
import { metadataKeys, statusName } from '@dice/proto';
import { edgeClient, type ClientIdentity } from './edge-client.ts';


/** How the calls of a load run ended. */
export interface LoadReport {
  /** The prefix of this load's request ids (x-request-id), to find its calls in the logs; empty when calls carry none. */
  loadId: string;
  total: number;
  /** Calls by final gRPC status name (after the channel's retries), OK included. */
  byCode: Record<string, number>;
  /** The first few failures, for the assertion message. */
  failures: string[];
  /** Calls per answering replica (x-dice-replica). */
  byReplica: Record<string, number>;
  /** How long calls took as the caller saw them, retries included (steady loads only). */
  latencyMs?: { p50: number; p99: number; max: number };
}

export interface SteadyLoad {
  /** Stops starting calls, waits for those in flight and reports. */
  stop(): Promise<LoadReport>;
}

export interface SteadyLoadOptions {
  address: string;
  identity: Required<ClientIdentity>;
  callsPerSecond: number;
  deadlineMs?: number;
  /** With the documented client service config (retry on UNAVAILABLE); off to see raw failures. */
  retries?: boolean;
}

/**
 * A client with the client certificate that starts RollDie calls at a fixed rate on one channel,
 * like a service calling through the edge, and counts how each call ended.
 */
export function startSteadyLoad({ address, identity, callsPerSecond, deadlineMs = 5000, retries = true }: SteadyLoadOptions): SteadyLoad {
  const client = edgeClient(address, identity, { retries: retries ? 'policy' : 'off' });
  const loadId = `load-${randomBytes(3).toString('hex')}`;
  const report: LoadReport = { loadId, total: 0, byCode: {}, failures: [], byReplica: {} };
  const inFlight = new Set<Promise<void>>();
  // Microseconds, as make bench records them: fixed memory however long the load runs.
  const durations = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

  const callOnce = (): void => {
    report.total++;
    const startedAt = performance.now();
    let replica = 'unknown';
    // A request id per call (nginx logs it as request_id, the server as requestId), so a failed call
    // can be found in both logs.
    const requestId = `${loadId}-${report.total}`;
    const metadata = new grpc.Metadata();
    metadata.set(metadataKeys.requestId, requestId);
    const done = new Promise<void>((resolve) => {
      const call = client.RollDie({}, metadata, { deadline: Date.now() + deadlineMs }, (error) => {
        durations.recordValue(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
        const code = error ? statusName(error.code) : 'OK';
        report.byCode[code] = (report.byCode[code] ?? 0) + 1;
        if (error && report.failures.length < 10) report.failures.push(`${code}: ${error.details} [x-request-id ${requestId}]`);
        if (!error) report.byReplica[replica] = (report.byReplica[replica] ?? 0) + 1;
        resolve();
      });
      call.on('metadata', (headers: grpc.Metadata) => {
        replica = String(headers.get(metadataKeys.replica)[0] ?? 'unknown');
      });
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  // Ticks of 20 ms; each starts the calls due by now, so a slow tick does not lower the rate.
  const startedAt = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * callsPerSecond);
    while (report.total < due) callOnce();
  }, 20);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      client.close();
      const ms = (percentile: number): number => Math.round(durations.getValueAtPercentile(percentile) / 1000);
      report.latencyMs = { p50: ms(50), p99: ms(99), max: Math.round(durations.maxValue / 1000) };
      return report;
    },
  };
}

/** Runs the load while `during` runs; the load is stopped also when `during` fails. */
export async function underSteadyLoad(options: SteadyLoadOptions, during: () => Promise<void>): Promise<LoadReport> {
  const load = startSteadyLoad(options);
  try {
    await during();
  } catch (error) {
    await load.stop();
    throw error;
  }
  return load.stop();
}

/** Starts `total` calls, `concurrency` at a time, on one channel without retries; reports how they ended. */
export async function callsOnOneChannel(options: { address: string; identity: Required<ClientIdentity>; total: number; concurrency: number }): Promise<LoadReport> {
  const client = edgeClient(options.address, options.identity, { retries: 'off' });
  const report: LoadReport = { loadId: '', total: 0, byCode: {}, failures: [], byReplica: {} };
  const worker = async (): Promise<void> => {
    while (report.total < options.total) {
      report.total++;
      const code = await new Promise<string>((resolve) => {
        client.RollDie({}, { deadline: Date.now() + 10_000 }, (error) => {
          if (error && report.failures.length < 10) report.failures.push(`${statusName(error.code)}: ${error.details}`);
          resolve(error ? statusName(error.code) : 'OK');
        });
      });
      report.byCode[code] = (report.byCode[code] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    client.close();
  }
  return report;
}

export interface WebappRolls {
  /** Stops starting requests, waits for those in flight, and says how they went. */
  stop(): Promise<{ calls: number; failures: string[] }>;
}

/**
 * `GET /api/roll` through the web app, back to back on `lanes` lanes, until stop(): what a user
 * of the page sees while the stack is operated underneath. Every answer but a 200 is a failure.
 */
export function rollThroughWebapp(webappUrl: string, lanes = 1): WebappRolls {
  const failures: string[] = [];
  let calls = 0;
  let rolling = true;
  const lane = async (): Promise<void> => {
    while (rolling) {
      calls++;
      const response = await fetch(`${webappUrl}/api/roll`);
      if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
      else await response.arrayBuffer();
    }
  };
  const running = Promise.all(Array.from({ length: lanes }, lane));
  return {
    async stop() {
      rolling = false;
      await running;
      return { calls, failures };
    },
  };
}
