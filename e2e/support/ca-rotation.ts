// make rotate-ca, one step at a time, under a steady load through the edge that moves as the steps
// tell an outside client to: the e2e suite and make soak both run it.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pki, ClientFiles } from './pki.ts';
import { repoRoot, type Stack } from './stack.ts';
import { startSteadyLoad, type LoadReport, type SteadyLoad, type SteadyLoadOptions } from './steady-load.ts';

const execFileAsync = promisify(execFile);

export interface CaRotation {
  /** The three loads' calls, added up (each ran while the next started, so the load never paused). */
  report: LoadReport;
  /** What make rotate-ca said at each step. */
  outputs: string[];
  /** The outside client's certificate from the old CA, and the one from the new CA it moved to. */
  oldLeaf: ClientFiles;
  newLeaf: ClientFiles;
}

/** Sums the reports of loads that ran one after the other (or overlapping). */
export function combinedReport(reports: LoadReport[]): LoadReport {
  const combined: LoadReport = { loadId: reports.map((report) => report.loadId).join(','), total: 0, byCode: {}, failures: [], byReplica: {} };
  for (const report of reports) {
    combined.total += report.total;
    for (const [code, n] of Object.entries(report.byCode)) combined.byCode[code] = (combined.byCode[code] ?? 0) + n;
    for (const [replica, n] of Object.entries(report.byReplica)) combined.byReplica[replica] = (combined.byReplica[replica] ?? 0) + n;
    combined.failures.push(...report.failures.slice(0, 10 - combined.failures.length));
  }
  return combined;
}

/**
 * Replaces the stack's CA with `make rotate-ca STEP=1`, 2 and 3 while an outside client calls at
 * `load.callsPerSecond`. The client does what the steps ask: it trusts the old CA; after step 1 a new
 * client trusting ca.pem as it then is (both CAs) takes over; after step 2 one with a certificate
 * from the new CA (`newClientName`) takes over; step 3 removes the old CA. Each hand-over starts the
 * next load before it stops the previous one.
 */
export async function rotateCaUnderLoad(options: {
  stack: Stack;
  pki: Pki;
  load: SteadyLoadOptions;
  newClientName: string;
  /** Runs once step 2 has moved the edge to the new CA, with the trust file of both CAs. */
  afterStep2?: (trustBoth: string) => Promise<void>;
}): Promise<CaRotation> {
  const { stack, pki, load, newClientName, afterStep2 } = options;
  const rotate = async (step: string): Promise<string> => {
    const { stdout, stderr } = await execFileAsync('make', ['--no-print-directory', 'rotate-ca'], { cwd: repoRoot, env: { ...process.env, CERTS_DIR: pki.dir, COMPOSE_PROJECT_NAME: stack.projectName, STEP: step } });
    return stdout + stderr;
  };
  // The client keeps its own copy of the trust file, as a client elsewhere would.
  const trustAsNow = (name: string): string => {
    const path = join(pki.dir, `${name}.pem`);
    writeFileSync(path, readFileSync(pki.ca));
    return path;
  };
  const oldLeaf = load.identity as ClientFiles;
  const reports: LoadReport[] = [];
  const outputs: string[] = [];
  let running: SteadyLoad = startSteadyLoad(load);
  const handOver = async (next: SteadyLoadOptions): Promise<void> => {
    const previous = running;
    running = startSteadyLoad(next);
    reports.push(await previous.stop());
  };
  let newLeaf: ClientFiles | undefined;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    outputs.push(await rotate('1'));
    const trustBoth = trustAsNow(`${newClientName}-trust-both`);
    await handOver({ ...load, identity: { ...oldLeaf, ca: trustBoth } });
    outputs.push(await rotate('2'));
    await afterStep2?.(trustBoth);
    newLeaf = pki.issue(newClientName);
    await handOver({ ...load, identity: { ...newLeaf, ca: trustBoth } });
    outputs.push(await rotate('3'));
    await new Promise((resolve) => setTimeout(resolve, 3000));
  } finally {
    reports.push(await running.stop());
  }
  return { report: combinedReport(reports), outputs, oldLeaf, newLeaf };
}
