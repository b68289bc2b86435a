import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi } from '@dice/proto';
import { pino } from 'pino';
import { createReloadingDiceClient } from './reloading-dice-client.ts';
import { createDiceChannel } from './dice-channel.ts';

const dir = mkdtempSync(join(tmpdir(), 'dice-reload-'));
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

/** A CA and a leaf it signed (ECDSA P-256), written as NAME.pem and NAME-key.pem in dir. */
function issue(name: string, subject: string, extension: string): void {
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-key.pem`, '-subj', subject, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), `${extension}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

const fingerprint = (file: string): string => new X509Certificate(readFileSync(join(dir, file))).fingerprint256;

describe('createReloadingDiceClient', () => {
  const callers: (string | undefined)[] = [];
  let holdNext: ((release: () => void) => void) | undefined;
  let server: grpc.Server;
  let port: number;
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client-key.pem') };

  before(async () => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca-key.pem', '-subj', '/CN=test CA', '-days', '2', '-out', 'ca.pem');
    issue('server', '/CN=localhost', 'subjectAltName=DNS:localhost');
    issue('client-a', '/CN=client-a', 'extendedKeyUsage=clientAuth');
    issue('client-b', '/CN=client-b', 'extendedKeyUsage=clientAuth');
    copyFileSync(join(dir, 'client-a.pem'), files.cert);
    copyFileSync(join(dir, 'client-a-key.pem'), files.key);

    server = new grpc.Server();
    server.addService(loadDiceApi().api.DiceService.service, {
      RollDie(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ value: number }>) {
        callers.push(call.getAuthContext().sslPeerCertificate?.fingerprint256);
        const hold = holdNext;
        holdNext = undefined;
        if (hold) hold(() => callback(null, { value: 4 }));
        else callback(null, { value: 4 });
      },
    });
    const credentials = grpc.ServerCredentials.createSsl(readFileSync(files.ca), [{ cert_chain: readFileSync(join(dir, 'server.pem')), private_key: readFileSync(join(dir, 'server-key.pem')) }], true);
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  });
  after(() => server.forceShutdown());

  it('switches to a rotated certificate only once certificate and key match, without failing a call in flight', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => warnings.push(line) });
    const dice = createReloadingDiceClient({
      tlsFiles: files,
      logger,
      pollMs: 60_000,
      connect: (credentials) => createDiceChannel({ target: `127.0.0.1:${port}`, credentials, deadlineMs: 5000, tlsServerName: 'localhost' }),
    });
    try {
      await dice.roll();
      assert.equal(callers.at(-1), fingerprint('client-a.pem'));
      assert.equal(dice.checkNow(), false, 'nothing changed yet');

      // A call that is still running on the old channel when the switch happens.
      let release: (() => void) | undefined;
      const held = new Promise<void>((resolve) => (holdNext = (done) => { release = done; resolve(); }));
      const inFlight = dice.roll();
      await held;

      // Half-way through a rotation: new certificate, old key. It must not be used.
      writeFileSync(files.cert, readFileSync(join(dir, 'client-b.pem')));
      assert.equal(dice.checkNow(), false);
      assert.match(warnings.join(''), /cannot be used \(yet\)/);
      await dice.roll();
      assert.equal(callers.at(-1), fingerprint('client-a.pem'), 'the old channel still serves while the pair is inconsistent');

      writeFileSync(files.key, readFileSync(join(dir, 'client-b-key.pem')));
      assert.equal(dice.checkNow(), true);
      await dice.roll();
      assert.equal(callers.at(-1), fingerprint('client-b.pem'), 'new calls present the new certificate');

      release?.();
      assert.equal((await inFlight).value, 4, 'the call on the old channel completes');
    } finally {
      dice.close();
    }
  });
});
