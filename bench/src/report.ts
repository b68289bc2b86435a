/** One measured variant of a scenario: the median round, by throughput. */
export interface VariantResult {
  scenario: string;
  variant: string;
  /** calls/s (gRPC) or requests/s (HTTP) */
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  errors: Record<string, number>;
  /** Cores used during the round, per process group: nginx, server (all replicas), webapp, load tool. */
  cpu: Record<string, number>;
  /** Largest server RSS seen, MB. */
  serverRssMb: number;
  /** Anything else the scenario counts: resumed sessions, client connections. */
  extra: Record<string, number>;
  /** All rounds' rates, to show the spread. */
  rounds: number[];
}

/** The middle element by rate (the lower middle for an even count). */
export function medianRound<T extends { rate: number }>(rounds: T[]): T {
  if (rounds.length === 0) throw new Error('no rounds');
  const sorted = [...rounds].sort((a, b) => a.rate - b.rate);
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

export interface Target {
  name: string;
  /** measured value and the bound it must reach */
  value: number;
  goal: number;
  /** true when a higher value is better */
  atLeast: boolean;
  unit: string;
  /** What limits the measured value: shown when the target is missed. */
  limitedBy?: string;
}

export const targetMet = (target: Target): boolean => (target.atLeast ? target.value >= target.goal : target.value <= target.goal);

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1));

export interface ReportInput {
  date: string;
  machine: Record<string, string>;
  versions: Record<string, string>;
  method: string[];
  questions: Record<string, string>;
  results: VariantResult[];
  targets: Target[];
}

/**
 * The CPU columns, in cores: the three containers, the load tool, Docker's own processes (dockerd,
 * containerd, the shims and docker-proxy: every log line and published-port byte passes them), and
 * the rest of the machine's busy time (the kernel's network and scheduling work, anything else).
 */
export const cpuColumns = ['nginx', 'server', 'webapp', 'load tool', 'docker', 'rest'] as const;

/** The Markdown report: machine, versions, method, a table per scenario, the targets. */
export function renderMarkdown(input: ReportInput): string {
  const lines: string[] = [`# Benchmark ${input.date}`, '', '## Machine and versions', ''];
  for (const [key, value] of Object.entries({ ...input.machine, ...input.versions })) lines.push(`- ${key}: ${value}`);
  lines.push('', '## Method', '', ...input.method.map((line) => `- ${line}`));
  // By their number ("10. ..." after "9. ..."), whatever order they ran in.
  const scenarios = [...new Set(input.results.map((result) => result.scenario))].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const scenario of scenarios) {
    lines.push('', `## ${scenario}`, '');
    if (input.questions[scenario]) lines.push(input.questions[scenario], '');
    lines.push('| variant | rate/s | p50 ms | p90 ms | p99 ms | errors | CPU cores: nginx / server / webapp / load tool / docker / rest | server RSS MB | other | rounds (rate/s) |', '|---|---:|---:|---:|---:|---|---|---:|---|---|');
    for (const result of input.results.filter((r) => r.scenario === scenario)) {
      const errors = Object.entries(result.errors).map(([code, count]) => `${code} ${count}`).join(', ') || '0';
      const cpu = cpuColumns.map((name) => fmt(result.cpu[name] ?? 0)).join(' / ');
      const extra = Object.entries(result.extra).map(([name, value]) => `${name} ${fmt(value)}`).join(', ');
      lines.push(`| ${result.variant} | ${fmt(result.rate)} | ${fmt(result.p50)} | ${fmt(result.p90)} | ${fmt(result.p99)} | ${errors} | ${cpu} | ${fmt(result.serverRssMb)} | ${extra} | ${result.rounds.map(fmt).join(', ')} |`);
    }
  }
  lines.push('', '## Targets', '', '| target | measured | goal | |', '|---|---:|---:|---|');
  for (const target of input.targets) {
    const verdict = targetMet(target) ? 'met' : `**missed**${target.limitedBy ? `: ${target.limitedBy}` : ''}`;
    lines.push(`| ${target.name} | ${fmt(target.value)}${target.unit} | ${target.atLeast ? '≥' : '≤'} ${fmt(target.goal)}${target.unit} | ${verdict} |`);
  }
  return `${lines.join('\n')}\n`;
}
