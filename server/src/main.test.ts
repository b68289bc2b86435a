import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

describe('server main', () => {
  it('stops with one clear line when PORT is not a number', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const result = spawnSync(process.execPath, [main], { env: { ...process.env, PORT: 'abc' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), 'server: configuration error: PORT must be a whole number from 1 to 65535, got "abc"');
  });

  it('does not start without the edge token file, and says which variable names it', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const result = spawnSync(process.execPath, [main], { env: { ...process.env, EDGE_TOKEN_FILE: '/nonexistent/edge-token' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 1);
    assert.match(result.stderr.trim(), /^server: configuration error: EDGE_TOKEN_FILE points to \/nonexistent\/edge-token, which cannot be used \(ENOENT\): mount the edge token file/);
  });
});
