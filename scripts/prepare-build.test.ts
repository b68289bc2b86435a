// scripts/prepare-build.sh (make env) when a step fails: it must stop there with the sentence that
// names the step, and leave no .env naming a base image that was never built. Run against a copy
// of scripts/ with stub commands first on PATH, so nothing real is pulled, built or installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const scriptsDir = fileURLToPath(new URL('.', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dice-prepare-build-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A checkout with only scripts/, and a bin/ of stubs: name -> shell body. */
function sandbox(name: string, stubs: Record<string, string>): { root: string; run: (env?: Record<string, string>) => ReturnType<typeof spawnSync> } {
  const root = join(scratch, name);
  cpSync(scriptsDir, join(root, 'scripts'), { recursive: true, filter: (path) => !path.endsWith('.test.ts') });
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const [command, body] of Object.entries(stubs)) {
    writeFileSync(join(bin, command), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, command), 0o755);
  }
  const run = (env: Record<string, string> = {}) =>
    spawnSync('bash', [join(root, 'scripts/prepare-build.sh')], {
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, NODE_IMAGE: '', NGINX_IMAGE: '', PULL_TIMEOUT: '5', ...env },
      encoding: 'utf8',
    });
  return { root, run };
}

// No registry and no base image yet: every docker call fails, as on a fresh machine without one.
const noRegistry = { docker: 'echo "Error response from daemon: no such image" >&2; exit 1', npm: 'exit 0' };

describe('prepare-build.sh stops at the first failed step', () => {
  it('exits non-zero with the failed base build named, and writes no .env, when mmdebstrap fails', () => {
    const { root, run } = sandbox('mmdebstrap-fails', {
      ...noRegistry,
      mmdebstrap: 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 3531 (apt-get)" >&2; exit 1',
    });
    const result = run();
    assert.notEqual(result.status, 0, `prepare-build.sh went on after the failed build:\n${result.stderr}`);
    assert.match(String(result.stderr), /mmdebstrap could not build the node base/);
    assert.match(String(result.stderr), /the node base image could not be built \(see the line above\); nothing was written to \.env\./);
    assert.doesNotMatch(String(result.stderr), /==> bases:/, 'no summary line naming images that do not exist');
    assert.equal(existsSync(join(root, '.env')), false, '.env was written');
  });

  it('keeps an existing .env as it was when the base build fails', () => {
    const { root, run } = sandbox('keeps-env', { ...noRegistry, mmdebstrap: 'exit 1' });
    writeFileSync(join(root, '.env'), 'NODE_IMAGE=dice-stack/node-base:24\nMY_SETTING=1\n');
    assert.notEqual(run().status, 0);
    assert.equal(readFileSync(join(root, '.env'), 'utf8'), 'NODE_IMAGE=dice-stack/node-base:24\nMY_SETTING=1\n');
  });

  it('writes .env when the images are given, and keeps the user lines', () => {
    const { root, run } = sandbox('given-images', noRegistry);
    writeFileSync(join(root, '.env'), 'MY_SETTING=1\n');
    const result = run({ NODE_IMAGE: 'example/node:24', NGINX_IMAGE: 'example/nginx:1.30' });
    assert.equal(result.status, 0, String(result.stderr));
    const env = readFileSync(join(root, '.env'), 'utf8');
    assert.match(env, /^NODE_IMAGE=example\/node:24$/m);
    assert.match(env, /^NGINX_IMAGE=example\/nginx:1\.30$/m);
    assert.match(env, /^MY_SETTING=1$/m);
  });
});
