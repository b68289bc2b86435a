import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';

/** The SHA-256 fingerprint of a PEM file, in the server log's form (lowercase hex, no colons). */
export const sha256Of = (pemFile: string): string => new X509Certificate(readFileSync(pemFile)).fingerprint256.replaceAll(':', '').toLowerCase();

/** The certificate the edge at host:port presents now, checked against the CA: its fingerprint and serial (uppercase hex, as openssl prints it). */
export function edgeCertificate(address: string, ca: string): Promise<{ sha256: string; serial: string }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(port), ca: readFileSync(ca), servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolve({ sha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase(), serial: certificate.serialNumber.toUpperCase() });
    });
    socket.once('error', reject);
  });
}

/** The fingerprint of the certificate the edge at host:port presents now, checked against the CA. */
export const edgeCertificateSha256 = async (address: string, ca: string): Promise<string> => (await edgeCertificate(address, ca)).sha256;
