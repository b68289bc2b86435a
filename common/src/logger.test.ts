import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const loggerModule = fileURLToPath(new URL('./logger.ts', import.meta.url));

/** Runs a script that uses the logger in a child process; resolves with its stdout lines and when each came. */
function runChild(script: string): Promise<{ lines: string[]; arrivals: number[]; exitedAt: number; startedAt: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { createServiceLogger } from ${JSON.stringify(loggerModule)};\n${script}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const arrivals: number[] = [];
    let rest = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        arrivals.push(Date.now());
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve({ lines, arrivals, exitedAt: Date.now(), startedAt }));
  });
}

describe('createServiceLogger', () => {
  it('loses no line when the process exits right after logging (20,000 lines, process.exit)', async () => {
    const { lines } = await runChild(`const logger = createServiceLogger('test', 'info'); for (let i = 0; i < 20000; i++) logger.info({ i }, 'line'); process.exit(0);`);
    assert.equal(lines.length, 20_000);
    const numbers = lines.map((line) => (JSON.parse(line) as { i: number; service: string }).i);
    assert.deepEqual(numbers, Array.from({ length: 20_000 }, (_, i) => i), 'every line, once, in order');
    assert.equal((JSON.parse(lines[0] ?? '{}') as { service: string }).service, 'test');
  });

  it('writes each line at once with chunkBytes 0', async () => {
    const { lines } = await runChild(`const logger = createServiceLogger('test', 'info', { chunkBytes: 0 }); for (let i = 0; i < 1000; i++) logger.info({ i }, 'line'); process.exit(0);`);
    assert.equal(lines.length, 1000);
  });

  it("writes a quiet service's line within the flush interval, not when the buffer fills", async () => {
    const { lines, arrivals, startedAt, exitedAt } = await runChild(`const logger = createServiceLogger('test', 'info', { flushIntervalMs: 200 }); logger.info('listening'); setTimeout(() => {}, 3000);`);
    assert.equal(lines.length, 1);
    assert.ok((arrivals[0] as number) < exitedAt - 1500, `the line came ${(arrivals[0] as number) - startedAt} ms after start, the process ran ${exitedAt - startedAt} ms`);
  });
});
