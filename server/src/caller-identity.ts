import { X509Certificate } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { metadataKeys } from '@dice/proto';
import type { EdgeTokens } from './edge-tokens.ts';

export interface CallerIdentity {
  /** The certificate's common name: the name ACCESS_POLICY uses. */
  commonName: string;
  /** The subject DN as nginx printed it (RFC 2253), e.g. "CN=alice,O=Dice Stack". */
  subject: string;
  /** SHA-256 fingerprint of the certificate, lowercase hex without separators. */
  sha256: string;
}

export type IdentityResult = { identity: CallerIdentity; problem?: undefined } | { identity?: undefined; problem: string };

function text(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function parse(escapedPem: string, subject: string): IdentityResult {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(decodeURIComponent(escapedPem));
  } catch {
    return { problem: 'the forwarded client certificate cannot be read' };
  }
  const commonName = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3))
    .at(-1);
  if (!commonName) return { problem: 'the client certificate has no common name (CN)' };
  return { identity: { commonName, subject, sha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase() } };
}

/**
 * Returns a reader for the caller identity nginx forwards. A call without the edge's token (when
 * edgeTokens is given), without the identity, or with a verify result other than SUCCESS, did not
 * come through the edge. Parsed certificates are cached (by their text), since the same few clients
 * call over and over.
 */
export function createIdentityReader({ edgeTokens, cacheSize = 256 }: { edgeTokens?: EdgeTokens | undefined; cacheSize?: number } = {}): (metadata: Metadata) => IdentityResult {
  const cache = new Map<string, IdentityResult>();
  return (metadata) => {
    if (edgeTokens && !edgeTokens.accepts(text(metadata, metadataKeys.edgeToken))) {
      return { problem: 'the call did not come through the edge (it carries no valid edge token), so the client identity it names is not believed' };
    }
    const verify = text(metadata, metadataKeys.clientVerify);
    const escapedPem = text(metadata, metadataKeys.clientCertificate);
    if (verify === undefined || escapedPem === undefined) return { problem: 'the call carries no verified client identity' };
    if (verify !== 'SUCCESS') return { problem: `the client certificate was not verified (${verify})` };
    const subject = text(metadata, metadataKeys.clientSubject) ?? '';
    const key = `${subject}\n${escapedPem}`;
    let result = cache.get(key);
    if (result === undefined) {
      result = parse(escapedPem, subject);
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(key, result);
    }
    return result;
  };
}
