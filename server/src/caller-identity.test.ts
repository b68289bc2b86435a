import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import { createIdentityReader } from './caller-identity.ts';
import { certificateFor, edgeMetadata } from './testing/edge-metadata.ts';

describe('createIdentityReader', () => {
  const alice = certificateFor('alice');

  it('reads the CN, subject and SHA-256 fingerprint from the certificate nginx forwards', () => {
    const { identity, problem } = createIdentityReader()(edgeMetadata(alice, 'alice'));
    assert.equal(problem, undefined);
    assert.equal(identity?.commonName, 'alice');
    assert.equal(identity?.subject, 'CN=alice,O=Dice Stack');
    assert.equal(identity?.sha256, new X509Certificate(alice).fingerprint256.replaceAll(':', '').toLowerCase());
    assert.match(identity?.sha256 ?? '', /^[0-9a-f]{64}$/);
  });

  it('finds no identity on a call that did not come through nginx', () => {
    assert.equal(createIdentityReader()(new Metadata()).problem, 'the call carries no verified client identity');
  });

  it('refuses a verify result other than SUCCESS', () => {
    const { identity, problem } = createIdentityReader()(edgeMetadata(alice, 'alice', 'FAILED:certificate has expired'));
    assert.equal(identity, undefined);
    assert.equal(problem, 'the client certificate was not verified (FAILED:certificate has expired)');
  });

  it('refuses a certificate that cannot be parsed, without throwing', () => {
    const metadata = edgeMetadata(alice, 'alice');
    metadata.set(metadataKeys.clientCertificate, encodeURIComponent('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n'));
    assert.equal(createIdentityReader()(metadata).problem, 'the forwarded client certificate cannot be read');
    metadata.set(metadataKeys.clientCertificate, '%E0%A4%A');
    assert.equal(createIdentityReader()(metadata).problem, 'the forwarded client certificate cannot be read');
  });

  it('keeps at most cacheSize parsed certificates and still answers for evicted ones', () => {
    const read = createIdentityReader({ cacheSize: 1 });
    const bob = certificateFor('bob');
    assert.equal(read(edgeMetadata(alice, 'alice')).identity?.commonName, 'alice');
    assert.equal(read(edgeMetadata(bob, 'bob')).identity?.commonName, 'bob');
    assert.equal(read(edgeMetadata(alice, 'alice')).identity?.commonName, 'alice');
  });
});
