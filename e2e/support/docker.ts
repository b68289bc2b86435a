import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs the docker CLI and returns its stdout; a failure carries docker's stderr. */
export function docker(...args: string[]): Promise<string> {
  return dockerWithEnv({}, ...args);
}

/** docker with extra environment variables (compose reads them for interpolation). */
export async function dockerWithEnv(env: Record<string, string>, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`docker ${args.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`, { cause: error });
  }
}

export interface LogOptions {
  /** Only what was written from then (docker's --since: an ISO time). */
  since?: string;
  /** stdout (the services' JSON lines, nginx's access log), stderr (nginx's error log), or both. */
  stream?: 'stdout' | 'stderr' | 'both';
}

/** A container's log, as text. */
export async function containerLogs(id: string, { since, stream = 'both' }: LogOptions = {}): Promise<string> {
  const { stdout, stderr } = await run('docker', ['logs', ...(since ? ['--since', since] : []), id], { maxBuffer: 512 * 1024 * 1024 });
  return stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : stdout + stderr;
}

/** Waits until Docker reports the container's healthcheck as healthy. */
export async function waitUntilHealthy(description: string, id: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(description, timeoutMs, async () => ((await inspect(id, '{{.State.Health.Status}}')) === 'healthy' ? true : undefined));
}

export async function inspect(id: string, format: string): Promise<string> {
  return (await docker('inspect', '--format', format, id)).trim();
}

/** Resident memory of a container's main process, in MB (VmRSS, read from the host's /proc). */
export async function containerRssMb(id: string): Promise<number> {
  const status = await readFile(`/proc/${await inspect(id, '{{.State.Pid}}')}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Math.round(kb / 102.4) / 10;
}

/**
 * Polls check() until it returns a value other than undefined, or fails after timeoutMs with the
 * description. Used to wait for a state change we caused (a stop, a start), never as a blind sleep.
 */
export async function waitFor<T>(description: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/**
 * Waits until a container's log has a line matching `pattern`. The services write their logs a
 * chunk at a time, within a second, and nginx its access log likewise: a line may come a moment
 * after what caused it.
 */
export async function waitForLog(description: string, id: string, pattern: string | RegExp, timeoutMs = 10_000): Promise<void> {
  const matches = (text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
  await waitFor(description, timeoutMs, async () => (matches(await containerLogs(id)) ? true : undefined));
}
