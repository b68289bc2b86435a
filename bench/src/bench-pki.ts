// The bench's throwaway PKIs (ECDSA, RSA), each with a client certificate "bench" for the load tool.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { metadataKeys } from '@dice/proto';
import { repoRoot } from './bench-stack.ts';

const pkiRoot = `${repoRoot}bench/.pki`;

/** The PKI of this key type under bench/.pki, made on first use. */
export function pki(kind: 'ecdsa' | 'rsa'): string {
  const dir = `${pkiRoot}/${kind}`;
  if (!existsSync(`${dir}/clients/bench.pem`)) {
    const env = { ...process.env, CERTS_DIR: dir, KEY_TYPE: kind };
    execFileSync('bash', [`${repoRoot}scripts/make-certs.sh`], { env, stdio: 'ignore' });
    execFileSync('bash', [`${repoRoot}scripts/client-cert.sh`, 'bench'], { env, stdio: 'ignore' });
  }
  return dir;
}

/**
 * What nginx adds to a call from the bench client (snippets/grpc-proxy.conf), so a direct call does
 * the same work on the server as one through the edge instead of being refused as unauthenticated.
 */
export function edgeIdentityMetadata(dir: string): Record<string, string> {
  const pem = readFileSync(`${dir}/clients/bench.pem`, 'utf8');
  const certificate = new X509Certificate(pem);
  return {
    [metadataKeys.clientVerify]: 'SUCCESS',
    [metadataKeys.clientSubject]: certificate.subject.split('\n').reverse().join(','),
    [metadataKeys.clientSha1]: certificate.fingerprint.replaceAll(':', '').toLowerCase(),
    [metadataKeys.clientCertificate]: encodeURIComponent(pem),
  };
}
