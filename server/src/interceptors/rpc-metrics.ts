import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { statusName } from '@dice/proto';

/**
 * Counts every RPC and observes its duration, by method and gRPC status code, as a server
 * interceptor (so refused calls count too).
 */
export function createRpcMetricsInterceptor(registry: Registry): ServerInterceptor {
  const calls = new Counter({ name: 'dice_server_rpcs_total', help: 'RPCs handled, by method and gRPC status code', labelNames: ['method', 'code'], registers: [registry] });
  const duration = new Histogram({
    name: 'dice_server_rpc_duration_seconds',
    help: 'Time from receiving an RPC to sending its status, by method and gRPC status code',
    labelNames: ['method', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (methodDescriptor, call) => {
    const startedAt = process.hrtime.bigint();
    return new ServerInterceptingCall(call, {
      sendStatus(status, next) {
        const labels = { method: methodDescriptor.path, code: statusName(status.code) };
        calls.inc(labels);
        duration.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
        next(status);
      },
    });
  };
}
