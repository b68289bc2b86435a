import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';

/** The SHA-256 fingerprint of a PEM file, in the server log's form (lowercase hex, no colons). */
export const sha256Of = (pemFile: string): string => new X509Certificate(readFileSync(pemFile)).fingerprint256.replaceAll(':', '').toLowerCase();

/** The fingerprint of the certificate the edge at host:port presents now, checked against the CA. */
export function edgeCertificateSha256(address: string, ca: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(port), ca: readFileSync(ca), servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256.replaceAll(':', '').toLowerCase();
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}
