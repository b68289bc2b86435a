// make profile: the server's hot path under load, as a CPU profile. Runs the built server (server/dist)
// in this process's machine with `node --cpu-prof`, sends it RollDie calls over h2c with the identity
// metadata nginx adds (so it does the same work per call as behind the edge), stops it with SIGTERM
// and prints the functions that took the most self time. PROFILE_SECONDS sets the load's length.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSecondsFromStat, repoRoot } from './bench-stack.ts';
import { edgeIdentityMetadata, pki } from './bench-pki.ts';
import { runGrpcLoad } from './grpc-load.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time by function, as a share of all samples, highest first. */
export function topFrames(profile: { nodes: ProfileNode[] }, count: number): { frame: string; percent: number }[] {
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const { callFrame, hitCount = 0 } of profile.nodes) {
    total += hitCount;
    const where = callFrame.url.replace(/^file:\/\/.*node_modules\//, '').replace(/^file:\/\/.*\/(server|common|proto)\//, '$1/').replace(/^node:/, 'node:');
    const frame = `${callFrame.functionName || '(anonymous)'} ${where}${where ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hitCount);
  }
  return [...byFrame.entries()]
    .map(([frame, hits]) => ({ frame, percent: Math.round((hits / Math.max(1, total)) * 1000) / 10 }))
    .sort((a, b) => b.percent - a.percent)
    .slice(0, count);
}

/** utime + stime of a process so far, from /proc (Linux). */
const processCpuSeconds = (pid: number): number => cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** Self time by area (a package, Node's http2, the server's own code, GC, idle), as a share of all samples. */
export function selfTimeByArea(profile: { nodes: ProfileNode[] }): { area: string; percent: number }[] {
  const byArea = new Map<string, number>();
  let total = 0;
  for (const { callFrame, hitCount = 0 } of profile.nodes) {
    total += hitCount;
    const { url, functionName } = callFrame;
    const area =
      /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(url)?.[1] ??
      (/\/(server|common|proto)\/dist\//.exec(url)?.[1] ? `project ${/\/(server|common|proto)\/dist\//.exec(url)?.[1]}` : undefined) ??
      (url.startsWith('node:internal/http2') ? 'node http2' : url.startsWith('node:') ? 'node other' : functionName.startsWith('(') ? functionName : 'native');
    byArea.set(area, (byArea.get(area) ?? 0) + hitCount);
  }
  return [...byArea.entries()].map(([area, hits]) => ({ area, percent: Math.round((hits / Math.max(1, total)) * 1000) / 10 })).sort((a, b) => b.percent - a.percent);
}

if (import.meta.main) {
  const seconds = Number(process.env['PROFILE_SECONDS'] ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'dice-profile-'));
  const port = 50_151;
  // PROFILE_CPU=off measures CPU per call without the profiler's own cost; PROFILE_SERVER names another build of main.js.
  const profiling = process.env['PROFILE_CPU'] !== 'off';
  const main = process.env['PROFILE_SERVER'] ?? join(repoRoot, 'server/dist/main.js');
  const certs = pki('ecdsa');
  const server = spawn(process.execPath, ['--max-semi-space-size=4', ...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), main], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(port + 1), EDGE_TOKEN_FILE: join(certs, 'edge-token'), LOG_LEVEL: process.env['PROFILE_LOG_LEVEL'] ?? 'info' },
    // Its log lines go to a pipe that is read and dropped, as a container runtime reads them.
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  server.stdout?.resume();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const load = { target: `127.0.0.1:${port}`, mode: 'shared', concurrency: 32, connections: 2, metadata: edgeIdentityMetadata(certs) } as const;
  await runGrpcLoad({ ...load, durationMs: 2000, warmupMs: 0 });
  const cpuBefore = processCpuSeconds(server.pid as number);
  const result = await runGrpcLoad({ ...load, durationMs: seconds * 1000, warmupMs: 0 });
  const cpuSeconds = processCpuSeconds(server.pid as number) - cpuBefore;
  server.kill('SIGTERM');
  await once(server, 'exit');
  const lines: string[] = [];
  const say = (line: string): void => void (lines.push(line), process.stdout.write(`${line}\n`));
  say(`${result.callsPerSecond} calls/s over ${seconds} s (direct h2c, 32 in flight, after a 2 s warm-up), errors ${JSON.stringify(result.errors)}`);
  say(`server CPU: ${Math.round((cpuSeconds / result.calls) * 1e6)} µs per call (${cpuSeconds.toFixed(2)} s for ${result.calls} calls)${profiling ? ', under the profiler' : ', not profiled'}`);
  if (!profiling) process.exit(0);
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
  say(`profile: ${join(dir, file)} (open it in Chrome DevTools)`);
  say('');
  say('self time by area (share of all samples; "(idle)" is time the server waited for calls):');
  for (const { area, percent } of selfTimeByArea(profile)) say(`${String(percent).padStart(5)} %  ${area}`);
  say('');
  say('top functions by self time:');
  for (const { frame, percent } of topFrames(profile, 25)) say(`${String(percent).padStart(5)} %  ${frame}`);
  const report = `${repoRoot}bench/results/${new Date().toISOString().slice(0, 10)}-profile.txt`;
  mkdirSync(`${repoRoot}bench/results`, { recursive: true });
  writeFileSync(report, `make profile, ${new Date().toISOString()}\n\n${lines.join('\n')}\n`);
  process.stdout.write(`\nwritten to ${report.slice(repoRoot.length)}\n`);
}
