import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { certificateDaysLeft } from './tls-files.ts';

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

/**
 * Exposes the client certificate's days left as a gauge (read from the file at each scrape, so a
 * replaced certificate shows at once) and logs a warning when it is under warnDays: now, and every
 * 12 hours.
 */
export function watchCertificateExpiry(options: { certFile: string; registry: Registry; logger: Logger; warnDays: number }): () => void {
  const { certFile, registry, logger, warnDays } = options;
  new Gauge({
    name: 'dice_webapp_client_certificate_expiry_days',
    help: 'Days until the web app client certificate (TLS_CERT_FILE) expires',
    registers: [registry],
    collect() {
      const daysLeft = certificateDaysLeft(certFile);
      // Unreadable for a moment while being replaced: the last value stands until the next scrape.
      if (daysLeft !== undefined) this.set(daysLeft);
    },
  });
  const check = (): void => {
    const daysLeft = certificateDaysLeft(certFile);
    if (daysLeft === undefined) logger.warn({ certFile }, 'the client certificate cannot be read to check its expiry');
    else if (daysLeft < warnDays) logger.warn({ certFile, daysLeft, warnDays }, 'the client certificate expires soon: issue a new one (make rotate-certs or make certs)');
  };
  check();
  const timer = setInterval(check, 12 * 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
