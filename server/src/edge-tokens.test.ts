import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '@dice/common';
import { metadataKeys } from '@dice/proto';
import { createIdentityReader } from './caller-identity.ts';
import { parseEdgeTokens, watchEdgeTokens } from './edge-tokens.ts';
import { captureLogger } from './testing/capture-logger.ts';
import { certificateFor, edgeMetadata } from './testing/edge-metadata.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dice-edge-tokens-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const oldToken = 'a'.repeat(64);
const newToken = 'b'.repeat(64);

/** Polls until check() holds, for the file watcher (it polls every 50 ms here). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !check(); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() - started > 3000) assert.fail(`within 3 s: ${what}`);
  }
}

describe('parseEdgeTokens', () => {
  it('reads one token per line, leaving out blank lines and comments', () => {
    assert.deepEqual(parseEdgeTokens(`# the edge sends the first\n${oldToken}\n\n${newToken}\n`), [oldToken, newToken]);
  });
  it('refuses an empty file and a short or odd token', () => {
    assert.throws(() => parseEdgeTokens('# nothing\n'), /names no token/);
    assert.throws(() => parseEdgeTokens('short'), /token 1 is not 32 to 512/);
    assert.throws(() => parseEdgeTokens(`${oldToken}\n${'x'.repeat(40)} spaced`), /token 2 is not/);
  });
});

describe('watchEdgeTokens', () => {
  it('stops with a line naming EDGE_TOKEN_FILE when the file cannot be read', () => {
    assert.throws(() => watchEdgeTokens(join(scratch, 'missing'), captureLogger().logger), (error: unknown) => error instanceof ConfigError && /^EDGE_TOKEN_FILE points to .*missing, which cannot be used \(ENOENT\)/.test(error.message));
  });

  it('accepts any token of the file, and follows the file through a rotation, keeping the last good tokens', async () => {
    const file = join(scratch, 'edge-token');
    writeFileSync(file, `${oldToken}\n`);
    const { logger, lines } = captureLogger();
    const tokens = watchEdgeTokens(file, logger, { intervalMs: 50 });
    try {
      assert.equal(tokens.accepts(oldToken), true);
      assert.equal(tokens.accepts(newToken), false);
      assert.equal(tokens.accepts(undefined), false);
      assert.equal(tokens.accepts(`${oldToken}x`), false);
      // Rotation: the new token second (both accepted), then the old one gone.
      writeFileSync(file, `${oldToken}\n${newToken}\n`);
      await eventually(() => tokens.accepts(newToken), 'the new token accepted');
      assert.equal(tokens.accepts(oldToken), true);
      writeFileSync(file, `${newToken}\n`);
      await eventually(() => !tokens.accepts(oldToken), 'the old token refused');
      // A broken file is logged and changes nothing.
      writeFileSync(file, 'not a token\n');
      await eventually(() => lines.some((line) => line['msg'] === 'edge token file changed but cannot be used; the tokens read before are still accepted'), 'the broken file logged');
      assert.equal(tokens.accepts(newToken), true);
    } finally {
      tokens.close();
    }
  });
});

describe('createIdentityReader with the edge tokens', () => {
  const alice = certificateFor('alice');
  const file = join(scratch, 'reader-token');
  writeFileSync(file, `${oldToken}\n`);

  it('believes the forwarded identity only on a call that carries an edge token', () => {
    const tokens = watchEdgeTokens(file, captureLogger().logger);
    try {
      const read = createIdentityReader({ edgeTokens: tokens });
      // A forged call: the identity nginx would send, with a real certificate, but no token.
      assert.match(read(edgeMetadata(alice, 'alice')).problem ?? '', /^the call did not come through the edge/);
      const wrong = edgeMetadata(alice, 'alice');
      wrong.set(metadataKeys.edgeToken, newToken);
      assert.match(read(wrong).problem ?? '', /^the call did not come through the edge/);
      const forwarded = edgeMetadata(alice, 'alice');
      forwarded.set(metadataKeys.edgeToken, oldToken);
      assert.equal(read(forwarded).identity?.commonName, 'alice');
    } finally {
      tokens.close();
    }
  });
});
