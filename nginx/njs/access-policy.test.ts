// nginx/njs/access-policy.js, the edge's authorization, run here by Node on certificates openssl
// issues in the test; e2e/edge-contract.test.ts runs the same file in nginx.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

interface Request {
  uri: string;
  variables: { edge_allowed_identities: string; ssl_client_raw_cert: string };
}
interface AccessPolicy {
  identitiesOf(pem: string): string[];
  refusal(r: Request): string;
}
// A specifier in a variable: the module is plain JavaScript for njs, without types of its own.
const modulePath = './access-policy.js';
const { default: access } = (await import(modulePath)) as { default: AccessPolicy };

const scratch = mkdtempSync(join(tmpdir(), 'dice-access-policy-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let issued = 0;
/** A self-signed certificate with this subject and these openssl extensions, as PEM. */
function certificate(subject: string, extensions: string[] = [], key = 'ec'): string {
  const file = join(scratch, `cert-${(issued += 1)}.pem`);
  const keyOptions = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:4096'];
  const result = spawnSync('openssl', ['req', '-x509', ...keyOptions, '-nodes', '-keyout', join(scratch, 'key.pem'), '-out', file, '-days', '1', '-subj', subject, '-utf8', ...extensions.flatMap((extension) => ['-addext', extension])], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return readFileSync(file, 'utf8');
}

const call = (pem: string, allowed: string, uri = '/api.DiceService/RollDie'): string => access.refusal({ uri, variables: { edge_allowed_identities: allowed, ssl_client_raw_cert: pem } });

describe('the edge access policy (njs)', () => {
  const alice = certificate('/O=Dice Stack/CN=alice', ['subjectAltName=URI:spiffe://dice.example/ns/dice/sa/alice,DNS:alice.dice.internal,email:alice@example.com,IP:10.0.0.1']);

  it('reads the CN and the URI and DNS SANs, and nothing else of the subject or the SANs', () => {
    assert.deepEqual(access.identitiesOf(alice), ['cn:alice', 'uri:spiffe://dice.example/ns/dice/sa/alice', 'dns:alice.dice.internal']);
    assert.deepEqual(access.identitiesOf(certificate('/O=Dice Stack/OU=cn:mallory/CN=bob')), ['cn:bob']);
    // A 4096-bit RSA key makes the certificate's lengths take two bytes.
    assert.deepEqual(access.identitiesOf(certificate('/CN=carol', ['subjectAltName=URI:spiffe://dice.example/carol'], 'rsa')), ['cn:carol', 'uri:spiffe://dice.example/carol']);
  });

  it('lets a client in by any one of its identities', () => {
    for (const allowed of [' cn:alice ', ' uri:spiffe://dice.example/ns/dice/sa/alice ', ' cn:bob dns:alice.dice.internal ']) assert.equal(call(alice, allowed), '', allowed);
  });

  it('matches whole identities only: not a prefix, another kind or another case', () => {
    for (const allowed of [' cn:alic ', ' cn:alice.dice.internal ', ' dns:alice ', ' uri:spiffe://dice.example/ns/dice/sa/alice/admin ', ' cn:Alice ', '-']) {
      assert.match(call(alice, allowed), /^client /, allowed);
    }
  });

  it('refuses with a sentence naming the identities and the method', () => {
    assert.equal(call(alice, ' cn:bob '), "client cn:alice, uri:spiffe://dice.example/ns/dice/sa/alice, dns:alice.dice.internal may not call /api.DiceService/RollDie: ask for one of its identities to be added to the edge's EDGE_ACCESS_POLICY");
    assert.equal(call(certificate('/O=Dice Stack'), ' cn:bob '), "client with no CN, URI or DNS name may not call /api.DiceService/RollDie: ask for one of its identities to be added to the edge's EDGE_ACCESS_POLICY");
  });

  it('encodes the sentence as grpc-message is: a CN with "%" and non-ASCII arrives intact, and no byte can break the header', () => {
    const refused = call(certificate('/CN=100%\u00e9\u00e8'), ' cn:bob ');
    assert.match(refused, /^[\x20-\x7e]+$/);
    assert.match(refused, /^client cn:100%25%C3%A9%C3%A8 may not call/);
    assert.equal(decodeURIComponent(refused), refused.replace('100%25%C3%A9%C3%A8', '100%\u00e9\u00e8'));
  });

  it('refuses a certificate it cannot read (fails closed)', () => {
    const truncated = `-----BEGIN CERTIFICATE-----\n${alice.split('\n').slice(1, 4).join('\n')}\n-----END CERTIFICATE-----\n`;
    assert.match(call(truncated, ' cn:alice '), /^the client certificate's identity could not be read \(truncated certificate\), so \/api\.DiceService\/RollDie is refused$/);
    assert.match(call('', ' cn:alice '), /could not be read/);
  });
});
