import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { methodPaths, statusName } from '@dice/proto';
import { edgeChannelOptions, edgeCredentials } from './edge-client.ts';

const execFileAsync = promisify(execFile);

/** What a call ended with, as a client sees it. */
export interface CallOutcome {
  code: string;
  details: string;
}

export interface ProbeOptions {
  /** host:port of nginx's published gRPC port. */
  address: string;
  ca: string;
  cert?: string;
  key?: string;
  /** Full method path; default RollDie. */
  method?: string;
  /** Request size: 0 is an empty RollDieRequest; more adds an unknown bytes field of about this size. */
  payloadBytes?: number;
  metadata?: Record<string, string>;
  /** How many calls to start at once on one channel. */
  count?: number;
  deadlineMs?: number;
}


/**
 * A valid protobuf message of about `size` bytes: an unknown length-delimited field 15, which a
 * RollDieRequest parser skips. Used to send messages over the edge's size limit.
 */
export function messageOfSize(size: number): Buffer {
  if (size === 0) return Buffer.alloc(0);
  const length: number[] = [];
  for (let n = size; ; n >>>= 7) {
    if (n < 0x80) { length.push(n); break; }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(15 << 3) | 2, ...length]), Buffer.alloc(size, 0x61)]);
}

/**
 * Makes `count` concurrent unary calls with grpc-js through the edge and returns how each ended,
 * as the status name and message the client reports (OK for a success).
 */
export async function probeWithGrpcJs(options: ProbeOptions): Promise<CallOutcome[]> {
  const client = new grpc.Client(options.address, edgeCredentials(options), edgeChannelOptions);
  const request = messageOfSize(options.payloadBytes ?? 0);
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const one = (): Promise<CallOutcome> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(
        options.method ?? methodPaths.rollDie,
        (message: Buffer) => message,
        (message: Buffer) => message,
        request,
        metadata,
        { deadline: Date.now() + (options.deadlineMs ?? 10_000) },
        (error) => resolve(error ? { code: statusName(error.code), details: error.details } : { code: 'OK', details: '' }),
      );
    });
  try {
    return await Promise.all(Array.from({ length: options.count ?? 1 }, one));
  } finally {
    client.close();
  }
}

/** The same calls made by Python's grpcio (e2e/support/python/probe.py), for the clients the edge must also serve. */
export async function probeWithPython(options: ProbeOptions): Promise<CallOutcome[]> {
  const { stdout } = await runPython([
    JSON.stringify({
      address: options.address,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      method: options.method ?? methodPaths.rollDie,
      payload_bytes: options.payloadBytes ?? 0,
      metadata: options.metadata ?? {},
      count: options.count ?? 1,
      deadline_s: (options.deadlineMs ?? 10_000) / 1000,
    }),
  ]);
  return JSON.parse(stdout) as CallOutcome[];
}

/** A bare TLS handshake at one protocol version, by Python's ssl module. */
export async function pythonHandshake(address: string, version: 'TLSv1' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3'): Promise<{ handshake: 'ok' | 'refused'; error: string }> {
  const { stdout } = await runPython([JSON.stringify({ address, tls_version: version })]);
  return JSON.parse(stdout) as { handshake: 'ok' | 'refused'; error: string };
}

function runPython(args: string[]): Promise<{ stdout: string }> {
  const python = process.env['PYTHON'] ?? 'python3';
  const script = fileURLToPath(new URL('python/probe.py', import.meta.url));
  return execFileAsync(python, ['-W', 'ignore::DeprecationWarning', script, ...args], { maxBuffer: 16 * 1024 * 1024 });
}

export const clients = { 'grpc-js': probeWithGrpcJs, 'Python grpcio': probeWithPython } as const;
