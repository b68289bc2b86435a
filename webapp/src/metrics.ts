import { Counter, Histogram, type Registry } from 'prom-client';

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
