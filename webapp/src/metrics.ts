import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { certificateTimeLeft } from './tls-files.ts';

export interface WebappMetrics {
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void;
  observeDiceCall(method: string, code: string, seconds: number): void;
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** HTTP requests by route and status, and dice calls by method and gRPC status code, with latencies. */
export function createWebappMetrics(registry: Registry): WebappMetrics {
  const httpRequests = new Counter({ name: 'dice_webapp_http_requests_total', help: 'HTTP requests answered, by method, route and status', labelNames: ['method', 'route', 'status_code'], registers: [registry] });
  const httpDuration = new Histogram({ name: 'dice_webapp_http_request_duration_seconds', help: 'HTTP request latency, by method and route', labelNames: ['method', 'route'], buckets: latencyBuckets, registers: [registry] });
  const grpcCalls = new Counter({ name: 'dice_webapp_grpc_client_calls_total', help: 'Calls to the gRPC edge, by method and gRPC status code', labelNames: ['method', 'code'], registers: [registry] });
  const grpcDuration = new Histogram({ name: 'dice_webapp_grpc_client_call_duration_seconds', help: 'Call latency (a whole stream for RollDice) including retries, by method and gRPC status code', labelNames: ['method', 'code'], buckets: latencyBuckets, registers: [registry] });
  return {
    observeHttp(method, route, statusCode, seconds) {
      httpRequests.inc({ method, route, status_code: String(statusCode) });
      httpDuration.observe({ method, route }, seconds);
    },
    observeDiceCall(method, code, seconds) {
      const labels = { method, code };
      grpcCalls.inc(labels);
      grpcDuration.observe(labels, seconds);
    },
  };
}

export interface CertificateExpiryWatch {
  /** What is wrong with the client certificate now (for /healthz), or undefined. */
  problem(): string | undefined;
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

/**
 * The client certificate's time left: a gauge (read from the file at each scrape, so a replaced
 * certificate shows at once), a warning in the log and a problem for /healthz once it is under the
 * alarm: a quarter of its lifetime, at most warnDays. The renewer renews at a third, so a
 * short-lived certificate that reaches a quarter was not renewed; one issued for a year warns
 * warnDays before its end, as before. Checked every 10 s; the warning is logged when the alarm
 * starts and every 15 minutes while it lasts.
 */
export function watchCertificateExpiry(options: { certFile: string; registry: Registry; logger: Logger; warnDays: number }): CertificateExpiryWatch {
  const { certFile, registry, logger, warnDays } = options;
  new Gauge({
    name: 'dice_webapp_client_certificate_expiry_seconds',
    help: 'Seconds until the web app client certificate (TLS_CERT_FILE) expires',
    registers: [registry],
    collect() {
      const left = certificateTimeLeft(certFile);
      // Unreadable for a moment while being replaced: the last value stands until the next scrape.
      if (left !== undefined) this.set(left.secondsLeft);
    },
  });
  const problem = (): string | undefined => {
    const left = certificateTimeLeft(certFile);
    if (left === undefined) return `the client certificate ${certFile} cannot be read`;
    if (left.secondsLeft <= 0) return `the client certificate expired ${humanDuration(-left.secondsLeft)} ago: the edge refuses every call; renew it (make rotate-certs, or see the renewer)`;
    const alarm = Math.min(warnDays * 86_400, Math.floor(left.lifetimeSeconds / 4));
    if (left.secondsLeft < alarm) return `the client certificate expires in ${humanDuration(left.secondsLeft)} and has not been renewed: renew it (make rotate-certs, or see the renewer)`;
    return undefined;
  };
  let warnedAt = 0;
  const check = (): void => {
    const now = problem();
    if (now === undefined) warnedAt = 0;
    else if (Date.now() - warnedAt >= 15 * 60_000) {
      warnedAt = Date.now();
      logger.warn({ certFile, secondsLeft: certificateTimeLeft(certFile)?.secondsLeft }, now);
    }
  };
  check();
  const timer = setInterval(check, 10_000);
  timer.unref();
  return { problem, stop: () => clearInterval(timer) };
}
