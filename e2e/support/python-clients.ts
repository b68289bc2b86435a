// The Python grpcio clients of the e2e suites, with stubs generated from api.proto by grpc_tools
// once per process: the tutorial's client as it was written, and the stream probe. PYTHON names the
// interpreter (make e2e finds one with grpcio; scripts/ensure-python-grpc.sh).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientIdentity } from './edge-client.ts';
import { repoRoot } from './stack.ts';

const python = process.env['PYTHON'] ?? 'python3';
let stubs: string | undefined;

/** api_pb2.py and api_pb2_grpc.py, generated on first use into a directory removed when the process exits. */
function pythonStubs(): string {
  if (stubs === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'dice-python-stubs-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    execFileSync(python, ['-m', 'grpc_tools.protoc', `-I${repoRoot}proto`, `--python_out=${dir}`, `--grpc_python_out=${dir}`, 'api.proto']);
    stubs = dir;
  }
  return stubs;
}

function runPythonClient(script: string, args: string[]): string {
  const path = fileURLToPath(new URL(`python/${script}`, import.meta.url));
  return execFileSync(python, [path, ...args], { env: { ...process.env, PYTHONPATH: pythonStubs() }, encoding: 'utf8' });
}

/** The tutorial's client (python/tutorial_client.py): `count` RollDie calls; the values rolled. */
export function tutorialClientRolls(address: string, identity: Required<ClientIdentity>, count: number): number[] {
  return runPythonClient('tutorial_client.py', [address, identity.ca, identity.cert, identity.key, String(count)]).trim().split('\n').map(Number);
}

/** python/stream_probe.py: one RollDice stream read to its end. */
export function pythonRollDice(address: string, identity: Required<ClientIdentity>, count: number, intervalMs: number): { values: number[]; code: string; details: string } {
  return JSON.parse(runPythonClient('stream_probe.py', [address, identity.ca, identity.cert, identity.key, String(count), String(intervalMs)])) as { values: number[]; code: string; details: string };
}
