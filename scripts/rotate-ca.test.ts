// scripts/rotate-ca.sh (make rotate-ca), step by step, with openssl into temporary directories and
// no stack running (so it waits for nothing). What each step leaves in the trust files and CRLs is
// checked with openssl verify, as nginx and the clients check it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dice-rotate-ca-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function script(name: string, dir: string, env: Record<string, string> = {}, ...args: string[]) {
  // A project name no stack runs under: the steps find no edge and go on.
  return spawnSync('bash', [join(repoRoot, 'scripts', name), ...args], { env: { ...process.env, CERTS_DIR: dir, COMPOSE_PROJECT_NAME: 'dice-rotate-ca-test-none', ...env }, encoding: 'utf8' });
}
const certificates = (file: string): number => readFileSync(file, 'utf8').match(/BEGIN CERTIFICATE/g)?.length ?? 0;
const crls = (file: string): number => readFileSync(file, 'utf8').match(/BEGIN X509 CRL/g)?.length ?? 0;
/** openssl verify as nginx does for a client: the trust file, and the CRL file checked. */
const edgeAccepts = (dir: string, cert: string): string => {
  const result = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'client-ca.pem'), '-crl_check', '-CRLfile', join(dir, 'crl.pem'), cert], { encoding: 'utf8' });
  return result.status === 0 ? 'OK' : (/error \d+ at \d+ depth lookup: (.*)/.exec(result.stdout + result.stderr)?.[1] ?? result.stderr.trim());
};

for (const twoCas of [false, true]) {
  describe(`rotate-ca.sh, ${twoCas ? 'two CAs' : 'one CA'}`, () => {
    const dir = join(scratch, twoCas ? 'two' : 'one');

    it('trusts both CAs after step 1, with a CRL for each that is honoured; refuses step 2 before step 1 and step 3 before step 2', () => {
      assert.equal(script('make-certs.sh', dir, twoCas ? { TWO_CAS: '1' } : {}).status, 0);
      assert.equal(script('client-cert.sh', dir, {}, 'old-client').status, 0);
      assert.equal(script('client-cert.sh', dir, {}, 'old-revoked').status, 0);
      const early = script('rotate-ca.sh', dir, { STEP: '2' });
      assert.equal(early.status, 1);
      assert.match(early.stderr, /^error: Step 2 issues from the new CA, which step 1 makes and makes trusted first: run STEP=1\.$/m);

      const step1 = script('rotate-ca.sh', dir, { STEP: '1' });
      assert.equal(step1.status, 0, step1.stderr);
      assert.match(step1.stderr, /step 1 of 3: ca\.pem trusts the old server CA and the new one, "Dice (Stack|Servers) CA \d{4}-\d\d-\d\dT[\d:]+"/);
      assert.match(step1.stderr, /no edge is running: it reads the files when it starts/);
      assert.equal(certificates(join(dir, 'ca.pem')), 2);
      assert.equal(certificates(join(dir, 'client-ca.pem')), 2);
      assert.equal(crls(join(dir, 'crl.pem')), 2, 'one CRL per client CA');
      assert.match(script('rotate-ca.sh', dir, { STEP: '3' }).stderr, /^error: Step 3 removes the old CA, which is safe only once step 2 has moved every certificate to the new one: run STEP=2\.$/m);

      // Revoking during the overlap re-signs the old CA's CRL and keeps the new one's.
      assert.equal(script('revoke.sh', dir, {}, 'old-revoked').status, 0);
      assert.equal(crls(join(dir, 'crl.pem')), 2);
      assert.equal(edgeAccepts(dir, join(dir, 'clients', 'old-client.pem')), 'OK');
      assert.equal(edgeAccepts(dir, join(dir, 'clients', 'old-revoked.pem')), 'certificate revoked');
    });

    it('issues from the new CA after step 2 (both still trusted), and after step 3 trusts it alone', () => {
      const step2 = script('rotate-ca.sh', dir, { STEP: '2' });
      assert.equal(step2.status, 0, step2.stderr);
      const newCa = join(dir, 'ca', 'ca-cert.pem');
      const newClientCa = join(dir, twoCas ? 'client-ca' : 'ca', 'ca-cert.pem');
      for (const [leaf, ca] of [['server.pem', newCa], ['client.pem', newClientCa]] as const) {
        assert.equal(spawnSync('openssl', ['verify', '-CAfile', ca, join(dir, leaf)]).status, 0, `${leaf} from the new CA`);
      }
      assert.equal(script('client-cert.sh', dir, {}, 'new-client').status, 0);
      assert.equal(edgeAccepts(dir, join(dir, 'clients', 'new-client.pem')), 'OK', 'a client of the new CA, during the overlap');
      assert.equal(edgeAccepts(dir, join(dir, 'clients', 'old-client.pem')), 'OK', 'and one of the old');

      const step3 = script('rotate-ca.sh', dir, { STEP: '3' });
      assert.equal(step3.status, 0, step3.stderr);
      assert.equal(certificates(join(dir, 'ca.pem')), 1);
      assert.equal(certificates(join(dir, 'client-ca.pem')), 1);
      assert.equal(crls(join(dir, 'crl.pem')), 1);
      assert.equal(edgeAccepts(dir, join(dir, 'clients', 'new-client.pem')), 'OK');
      assert.equal(edgeAccepts(dir, join(dir, 'clients', 'old-client.pem')), 'unable to get local issuer certificate', 'the old CA is gone');
      assert.equal(spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'server.pem')]).status, 0, 'clients trusting the new ca.pem verify the edge');
    });

    it('runs all three steps in a row, and refuses to start while a rotation is halfway', () => {
      const all = script('rotate-ca.sh', dir);
      assert.equal(all.status, 0, all.stderr);
      assert.match(all.stderr, /the CA is replaced; certificates from the old one are refused from now on/);
      assert.equal(script('rotate-ca.sh', dir, { STEP: '1' }).status, 0);
      const halfway = script('rotate-ca.sh', dir);
      assert.equal(halfway.status, 1);
      assert.match(halfway.stderr, /^error: A rotation is halfway \(step 1 done\): go on with STEP=2\.$/m);
    });
  });
}
