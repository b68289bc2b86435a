import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '@dice/common';

/** The web app's TLS files: the CA that signed the edge's certificate, its client certificate and key. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

const fileVariables: Record<keyof TlsFiles, string> = { ca: 'TLS_CA_FILE', cert: 'TLS_CERT_FILE', key: 'TLS_KEY_FILE' };

/** Reads the CA, client certificate and key into mTLS channel credentials. */
export function loadClientCredentials(files: TlsFiles): grpc.ChannelCredentials {
  const read = (which: keyof TlsFiles): Buffer => {
    try {
      return readFileSync(files[which]);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`${fileVariables[which]} points to ${files[which]}, which cannot be read (${reason})`);
    }
  };
  try {
    return grpc.credentials.createSsl(read('ca'), read('key'), read('cert'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE must be PEM files of a CA, a certificate and its key: ${(error as Error).message}`);
  }
}

/** The contents of the three files, so any change to any of them is seen (mtime can stay the same). */
export function fingerprintTlsFiles(files: TlsFiles): string | undefined {
  const hash = createHash('sha256');
  try {
    for (const path of [files.ca, files.cert, files.key]) hash.update(readFileSync(path)).update('\0');
  } catch {
    return undefined; // a file is being replaced; the next poll reads it again
  }
  return hash.digest('hex');
}

/** The certificate in a PEM file, or undefined while it cannot be read or parsed. */
export function readCertificate(certFile: string): X509Certificate | undefined {
  try {
    return new X509Certificate(readFileSync(certFile));
  } catch {
    return undefined;
  }
}

/** What the log says about a certificate: subject, SHA-256 and expiry. */
export function describeCertificate(certFile: string): { subject: string; sha256: string; validTo: string } | undefined {
  const certificate = readCertificate(certFile);
  return certificate && { subject: certificate.subject.replaceAll('\n', ', '), sha256: certificate.fingerprint256, validTo: certificate.validTo };
}
