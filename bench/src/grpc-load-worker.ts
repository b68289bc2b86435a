// One thread of the gRPC load tool (grpc-load.ts): runs its share of the concurrency until the
// duration is over and posts its counts and latency histogram.
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi, methodPaths, statusName, type DiceServiceClient } from '@dice/proto';
import * as hdr from 'hdr-histogram-js';
import type { GrpcLoadOptions, WorkerResult } from './grpc-load.ts';

const options = workerData as GrpcLoadOptions;
const tls = options.tls ? { ca: readFileSync(options.tls.ca), cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key), serverName: options.tls.serverName } : undefined;
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const errors: Record<string, number> = {};
let calls = 0;
let resumed = 0;

const DiceService = loadDiceApi().api.DiceService;
const credentials = tls ? grpc.credentials.createSsl(tls.ca, tls.key, tls.cert) : grpc.credentials.createInsecure();
// Each channel its own connection: grpc-js otherwise shares one subchannel between equal channels.
const channelOptions: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_retries': 0, ...(tls ? { 'grpc.ssl_target_name_override': tls.serverName } : {}) };
const newClient = (): DiceServiceClient => new DiceService(options.target, credentials, channelOptions);

const metadata = new grpc.Metadata();
for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);

// An EchoRequest with a 16-byte payload (field 1, bytes), written by hand: the bench prices the
// edge per backend, not a protobuf library; the reply is read as bytes and dropped.
const echoRequest = Buffer.concat([Buffer.from([0x0a, 16]), Buffer.alloc(16, 0x2a)]);
const asBytes = (bytes: Buffer): Buffer => bytes;

function rollOn(client: DiceServiceClient): Promise<string> {
  return new Promise((resolve) => {
    const done = (error: grpc.ServiceError | null): void => resolve(error ? statusName(error.code) : 'OK');
    if (options.call === 'EchoUnary') client.makeUnaryRequest('/echo.v1.Echo/Unary', asBytes, asBytes, echoRequest, metadata, { deadline: Date.now() + 10_000 }, done);
    else client.RollDie({}, metadata, { deadline: Date.now() + 10_000 }, done);
  });
}

let tlsSession: Buffer | undefined;
/** One call on a fresh HTTP/2 connection, as a client that connects, calls once and leaves. */
function rollOnNewConnection(): Promise<string> {
  return new Promise((resolve) => {
    const scheme = tls ? 'https' : 'http';
    const session = http2.connect(`${scheme}://${options.target}`, tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName, ...(options.resume && tlsSession ? { session: tlsSession } : {}) } : {});
    let settled = false;
    const finish = (code: string): void => {
      if (settled) return;
      settled = true;
      session.close();
      resolve(code);
    };
    session.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? 'CONNECT_ERROR'));
    if (tls) {
      session.once('connect', () => {
        const socket = session.socket as TLSSocket;
        if (socket.isSessionReused() && performance.now() >= countFrom) resumed++;
        socket.on('session', (ticket: Buffer) => (tlsSession = ticket));
      });
    }
    const request = session.request({ ':method': 'POST', ':path': methodPaths.rollDie, 'content-type': 'application/grpc', te: 'trailers' });
    let code = 'UNKNOWN';
    request.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) code = String(headers['grpc-status']);
    });
    request.on('trailers', (trailers) => (code = String(trailers['grpc-status'] ?? code)));
    request.on('data', () => {});
    request.on('close', () => finish(code === '0' ? 'OK' : statusName(Number(code))));
    request.on('error', () => finish('STREAM_ERROR'));
    // An empty RollDieRequest: the 5-byte gRPC message header with length 0.
    request.end(Buffer.alloc(5));
  });
}

const shared = options.mode === 'shared' ? Array.from({ length: Math.max(1, options.connections) }, newClient) : [];
const startedAt = performance.now();
const countFrom = startedAt + options.warmupMs;
const endAt = countFrom + options.durationMs;
let started = 0;
const more = (): boolean => (options.totalCalls === undefined ? performance.now() < endAt : started < options.totalCalls);

async function loop(index: number): Promise<void> {
  while (more()) {
    const callStart = performance.now();
    if (callStart >= countFrom) started++;
    let code: string;
    if (options.mode === 'shared') code = await rollOn(shared[index % shared.length] as DiceServiceClient);
    else if (options.mode === 'channel-per-call') {
      const client = newClient();
      code = await rollOn(client);
      client.close();
    } else code = await rollOnNewConnection();
    if (callStart < countFrom) continue;
    calls++;
    if (code === 'OK') histogram.recordValue(Math.max(1, Math.round((performance.now() - callStart) * 1000)));
    else errors[code] = (errors[code] ?? 0) + 1;
  }
}

// Connect the shared channels before the clock matters.
for (const client of shared) client.getChannel().getConnectivityState(true);
await Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(i)));
const elapsedMs = performance.now() - countFrom;
for (const client of shared) client.close();
const result: WorkerResult = { calls, errors, resumed, histogram: hdr.encodeIntoCompressedBase64(histogram), elapsedMs };
parentPort?.postMessage(result);
