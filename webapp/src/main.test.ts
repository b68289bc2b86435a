import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

describe('webapp main', () => {
  it('stops with one clear line naming a certificate file it cannot read', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const env = { ...process.env, TLS_CA_FILE: '/nonexistent/ca.pem', TLS_CERT_FILE: '/nonexistent/client.pem', TLS_KEY_FILE: '/nonexistent/client-key.pem' };
    const result = spawnSync(process.execPath, [main], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), 'webapp: configuration error: TLS_CA_FILE points to /nonexistent/ca.pem, which cannot be read (ENOENT)');
  });
});
