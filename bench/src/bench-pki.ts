// The bench's throwaway PKIs (ECDSA, RSA), each with a client certificate "bench" for the load tool.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { metadataKeys } from '@dice/proto';
import { issuePki } from '../../e2e/support/pki.ts';
import { repoRoot } from './bench-stack.ts';

const pkiRoot = `${repoRoot}bench/.pki`;

/** The PKI of this key type under bench/.pki, made on first use (e2e/support/pki.ts, as every suite's). */
export function pki(kind: 'ecdsa' | 'rsa'): string {
  return issuePki({ dir: `${pkiRoot}/${kind}`, keyType: kind, clients: ['bench'] }).dir;
}

/**
 * What nginx adds to a call from the bench client (snippets/grpc-proxy.conf), the edge's token
 * included, so a direct call does the same work on the server as one through the edge instead of
 * being refused as unauthenticated.
 */
export function edgeIdentityMetadata(dir: string): Record<string, string> {
  const pem = readFileSync(`${dir}/clients/bench.pem`, 'utf8');
  const certificate = new X509Certificate(pem);
  return {
    [metadataKeys.clientVerify]: 'SUCCESS',
    [metadataKeys.clientSubject]: certificate.subject.split('\n').reverse().join(','),
    [metadataKeys.clientSha1]: certificate.fingerprint.replaceAll(':', '').toLowerCase(),
    [metadataKeys.clientCertificate]: encodeURIComponent(pem),
    [metadataKeys.edgeToken]: readFileSync(`${dir}/edge-token`, 'utf8').split('\n')[0] ?? '',
  };
}
