import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeProblems } from './route-schema.ts';

const route = (spec: Record<string, unknown>) => ({ apiVersion: 'route.openshift.io/v1', kind: 'Route', metadata: { name: 'r' }, spec });

describe('routeProblems', () => {
  it('accepts a passthrough Route to a Service port', () => {
    assert.deepEqual(routeProblems(route({ to: { kind: 'Service', name: 'dice-edge' }, port: { targetPort: 'grpc-tls' }, tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'None' } })), []);
  });

  it('names what the API server would refuse or drop', () => {
    assert.deepEqual(routeProblems(route({ to: { kind: 'Service', name: 'dice-edge' }, tls: { termination: 'Passthrough' } })), ['spec.tls.termination must be one of "edge", "passthrough", "reencrypt" (got "Passthrough")']);
    assert.deepEqual(routeProblems(route({ to: { name: 'dice-edge' }, tls: { termination: 'passthrough', certificate: 'PEM', insecureEdgeTerminationPolicy: 'Allow' } })), [
      'spec.tls.certificate cannot be set with passthrough termination',
      'spec.tls.insecureEdgeTerminationPolicy cannot be Allow with passthrough termination',
    ]);
    assert.deepEqual(routeProblems(route({ to: { name: 'x' }, tls: { termination: 'edge', insecureEdgeTermination: 'Redirect' } })), ['spec.tls.insecureEdgeTermination is not a field of the Route API']);
    assert.deepEqual(routeProblems(route({ port: { targetPort: 9443 } })), ['spec.to is required']);
  });
});
