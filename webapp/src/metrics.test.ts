import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { build } from './testing/build-app.ts';
import { fakeDice } from './testing/fake-dice.ts';
import { createWebappMetrics } from './metrics.ts';


describe('web app metrics', () => {
  it('counts HTTP requests by route pattern and status, and dice calls by method and gRPC code', async (t) => {
    const registry = new Registry();
    const metrics = createWebappMetrics(registry);
    const app = build(t, { dice: fakeDice({ roll: async () => ({ value: 4 }) }), metrics });
    await app.inject({ method: 'GET', url: '/api/roll' });
    await app.inject({ method: 'GET', url: '/api/roll' });
    await app.inject({ method: 'GET', url: '/no/such/page' });
    metrics.observeDiceCall('/api.DiceService/RollDie', 'OK', 0.003);
    metrics.observeDiceCall('/api.DiceService/RollDie', 'UNAVAILABLE', 0.2);
    metrics.observeDiceCall('/api.DiceService/RollDice', 'OK', 1.5);
    const text = await registry.metrics();
    assert.match(text, /^dice_webapp_http_requests_total\{method="GET",route="\/api\/roll",status_code="200"\} 2$/m);
    assert.match(text, /^dice_webapp_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m);
    assert.match(text, /^dice_webapp_http_request_duration_seconds_count\{method="GET",route="\/api\/roll"\} 2$/m);
    assert.match(text, /^dice_webapp_grpc_client_calls_total\{method="\/api.DiceService\/RollDie",code="UNAVAILABLE"\} 1$/m);
    assert.match(text, /^dice_webapp_grpc_client_call_duration_seconds_count\{method="\/api.DiceService\/RollDie",code="OK"\} 1$/m);
    assert.match(text, /^dice_webapp_grpc_client_calls_total\{method="\/api.DiceService\/RollDice",code="OK"\} 1$/m);
  });
});
