import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@dice/common';
import { loadClientCredentials, readCertificate } from './tls-files.ts';

describe('loadClientCredentials', () => {
  it('names the variable whose file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dice-creds-'));
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    assert.throws(
      () => loadClientCredentials({ ca: join(dir, 'ca.pem'), cert: join(dir, 'missing.pem'), key: join(dir, 'key.pem') }),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('TLS_KEY_FILE points to') && error.message.includes('ENOENT'),
    );
  });
});

describe('readCertificate', () => {
  it('is undefined while the file cannot be read or parsed (a rotation halfway), not an exception', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dice-days-'));
    writeFileSync(join(dir, 'half.pem'), '-----BEGIN CERTIFICATE-----\nMIIB');
    assert.equal(readCertificate(join(dir, 'half.pem')), undefined);
    assert.equal(readCertificate(join(dir, 'missing.pem')), undefined);
  });
});
