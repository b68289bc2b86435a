// The certificates whose end would stop every call, watched so that one not renewed in time is said
// before it expires: the web app's own client certificate (its file) and the certificate the edge
// serves (as a handshake sees it, so an edge that never reloaded shows too).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { readCertificate, type TlsFiles } from './tls-files.ts';

export interface CertificateExpiryWatch {
  /** What is wrong with the certificate now (for /healthz), or undefined. */
  problem(): string | undefined;
  /** Settles once the first look is done. */
  firstLook: Promise<void>;
  stop(): void;
}

/** "2d3h", "1h02m", "4m10s", "12s". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** The validity of a certificate, as both sources give it. */
export interface Validity {
  validFrom: string;
  validTo: string;
}

/**
 * The alarm: a quarter of the certificate's lifetime left, at most warnDays. The renewer renews at a
 * third, so a short-lived certificate that reaches a quarter was not renewed; one issued for a year
 * warns warnDays before its end.
 */
export function expiryProblem(what: string, validity: Validity, warnDays: number, now = Date.now()): string | undefined {
  const validTo = Date.parse(validity.validTo);
  const secondsLeft = Math.floor((validTo - now) / 1000);
  if (secondsLeft <= 0) return `${what} expired ${humanDuration(-secondsLeft)} ago: the edge refuses every call; renew it (make rotate-certs, or see the renewer)`;
  const alarm = Math.min(warnDays * 86_400, Math.floor((validTo - Date.parse(validity.validFrom)) / 4000));
  return secondsLeft < alarm ? `${what} expires in ${humanDuration(secondsLeft)} and has not been renewed: renew it (make rotate-certs, or see the renewer)` : undefined;
}

/**
 * Watches one certificate: a gauge of its seconds left, and a warning in the log when the alarm
 * starts and every 15 minutes while it lasts; problem() answers from the latest look.
 */
function watchExpiry(options: { what: string; metric: string; help: string; read: () => Promise<Validity | undefined>; everyMs: number; registry: Registry; logger: Logger; warnDays: number }): CertificateExpiryWatch {
  const { what, read, registry, logger, warnDays } = options;
  let latest: Validity | undefined;
  let warnedAt = 0;
  new Gauge({
    name: options.metric,
    help: options.help,
    registers: [registry],
    collect() {
      if (latest) this.set(Math.floor((Date.parse(latest.validTo) - Date.now()) / 1000));
    },
  });
  const problem = (): string | undefined => (latest ? expiryProblem(what, latest, warnDays) : undefined);
  const look = async (): Promise<void> => {
    // Unreadable for a moment (a file being replaced, the edge restarting): the last look stands.
    latest = (await read()) ?? latest;
    const now = problem();
    if (now === undefined) warnedAt = 0;
    else if (Date.now() - warnedAt >= 15 * 60_000) {
      warnedAt = Date.now();
      logger.warn({ certificate: what, validTo: latest?.validTo }, now);
    }
  };
  const firstLook = look();
  const timer = setInterval(() => void look(), options.everyMs);
  timer.unref();
  return { problem, firstLook, stop: () => clearInterval(timer) };
}

/** The client certificate, read from its file every 10 s (a read and a parse: nothing). */
export function watchClientCertificate(options: { certFile: string; registry: Registry; logger: Logger; warnDays: number }): CertificateExpiryWatch {
  return watchExpiry({
    ...options,
    what: 'the client certificate',
    metric: 'dice_webapp_client_certificate_expiry_seconds',
    help: 'Seconds until the web app client certificate (TLS_CERT_FILE) expires',
    everyMs: 10_000,
    read: async () => readCertificate(options.certFile),
  });
}

/** The certificate the edge serves, from one TLS handshake with the client's own files (nothing else is sent). */
export function servedCertificate(target: string, files: TlsFiles, serverName?: string, timeoutMs = 5000): Promise<Validity | undefined> {
  const [, host = '', port = ''] = /^(?:dns:\/{0,3})?(.*):(\d+)$/.exec(target) ?? [];
  return new Promise((resolve) => {
    let socket: ReturnType<typeof tlsConnect>;
    try {
      socket = tlsConnect({ host, port: Number(port), ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key), servername: serverName ?? host, ALPNProtocols: ['h2'], timeout: timeoutMs }, () => {
        const raw = socket.getPeerCertificate(false).raw;
        socket.destroy();
        const certificate = raw ? new X509Certificate(raw) : undefined;
        resolve(certificate && { validFrom: certificate.validFrom, validTo: certificate.validTo });
      });
    } catch {
      resolve(undefined);
      return;
    }
    socket.once('timeout', () => socket.destroy());
    socket.once('error', () => resolve(undefined));
    socket.once('close', () => resolve(undefined));
  });
}

/** The edge's certificate, as a handshake sees it, once a minute. */
export function watchEdgeCertificate(options: { target: string; tlsFiles: TlsFiles; tlsServerName: string | undefined; registry: Registry; logger: Logger; warnDays: number; everyMs?: number }): CertificateExpiryWatch {
  return watchExpiry({
    ...options,
    what: "the edge's certificate",
    metric: 'dice_webapp_edge_certificate_expiry_seconds',
    help: 'Seconds until the certificate the edge (DICE_TARGET) serves expires, as the last handshake saw it',
    everyMs: options.everyMs ?? 60_000,
    read: () => servedCertificate(options.target, options.tlsFiles, options.tlsServerName),
  });
}
