// Test support: metadata shaped like what nginx forwards, for a certificate made on the spot.
import { execFileSync } from 'node:child_process';
import { Metadata } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';

/** A throwaway self-signed certificate with this CN, made with openssl. */
export function certificateFor(commonName: string): string {
  return execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', `/O=Dice Stack/CN=${commonName}`, '-days', '1'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** The metadata nginx adds for a verified client presenting this certificate. */
export function edgeMetadata(pem: string, commonName: string, verify = 'SUCCESS'): Metadata {
  const metadata = new Metadata();
  metadata.set(metadataKeys.clientVerify, verify);
  metadata.set(metadataKeys.clientSubject, `CN=${commonName},O=Dice Stack`);
  metadata.set(metadataKeys.clientSha1, 'not-checked-by-the-server');
  // nginx's $ssl_client_escaped_cert is the PEM, URL-encoded.
  metadata.set(metadataKeys.clientCertificate, encodeURIComponent(pem));
  return metadata;
}
