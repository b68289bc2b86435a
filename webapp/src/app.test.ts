import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { build } from './testing/build-app.ts';
import { fakeDice } from './testing/fake-dice.ts';
import { DiceCallError, type DiceRoller } from './dice-channel.ts';


function diceThat(roll: () => Promise<number>, replica?: string): DiceRoller {
  return fakeDice({ roll: async () => ({ value: await roll(), replica }) });
}

const failingWith = (code: status, details = 'boom') => diceThat(() => Promise.reject(new DiceCallError(code, details)));

describe('GET /', () => {
  for (const [value, face] of [[1, '⚀'], [4, '⚃'], [6, '⚅']] as const) {
    it(`renders the face ${face} and the number ${value}`, async (t) => {
      const app = build(t, { dice: diceThat(async () => value) });
      const response = await app.inject({ method: 'GET', url: '/' });
      assert.equal(response.statusCode, 200);
      assert.match(response.headers['content-type'] ?? '', /^text\/html/);
      assert.ok(response.body.includes(face), 'die face shown');
      assert.match(response.body, new RegExp(`<strong data-testid="value">${value}</strong>`));
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    });
  }

  for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED]) {
    it(`answers 503 with the plain sentence when the call fails with ${status[code]}`, async (t) => {
      const app = build(t, { dice: failingWith(code, 'connect ECONNREFUSED 10.0.0.1:9443 at Socket.internal') });
      const response = await app.inject({ method: 'GET', url: '/' });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '1');
      assert.ok(response.body.includes('The dice service is unavailable, try again shortly'));
      assert.ok(!response.body.includes('ECONNREFUSED'), 'no internals reach the user');
    });
  }

  it('answers 502 when the dice service refuses the app (a misconfiguration, not a blip)', async (t) => {
    const app = build(t, { dice: failingWith(status.UNAUTHENTICATED) });
    const response = await app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 502);
    assert.ok(response.body.includes('could not answer'));
  });
});

describe('request log', () => {
  it('writes one line per request, with the request id, method, URL, status and time', async (t) => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const app = build(t, { dice: diceThat(async () => 3), logger });
    await app.inject({ method: 'GET', url: '/api/roll', headers: { 'x-request-id': 'one-line' } });
    const mine = lines.filter((line) => line['requestId'] === 'one-line');
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.deepEqual([mine[0]?.['msg'], mine[0]?.['method'], mine[0]?.['url'], mine[0]?.['statusCode']], ['request', 'GET', '/api/roll', 200]);
    assert.equal(typeof mine[0]?.['responseTimeMs'], 'number');
  });
});

describe('request ids and replicas', () => {
  it('shows the replica that rolled on the page and in the JSON', async (t) => {
    const app = build(t, { dice: diceThat(async () => 2, 'abc123') });
    assert.match((await app.inject({ method: 'GET', url: '/' })).body, /data-testid="replica">abc123</);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/roll' })).json(), { value: 2, replica: 'abc123' });
  });

  it("passes the browser's x-request-id to the dice call and echoes it, or makes one", async (t) => {
    const ids: Array<string | undefined> = [];
    const app = build(t, { dice: fakeDice({ roll: async (options) => (ids.push(options?.requestId), { value: 1 }) }) });
    const given = await app.inject({ method: 'GET', url: '/api/roll', headers: { 'x-request-id': 'trace-42' } });
    assert.equal(given.headers['x-request-id'], 'trace-42');
    const made = await app.inject({ method: 'GET', url: '/api/roll' });
    const forged = await app.inject({ method: 'GET', url: '/api/roll', headers: { 'x-request-id': 'bad id\n{"level":60}' } });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.match(String(forged.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'an unsafe id is replaced');
    assert.deepEqual(ids, ['trace-42', made.headers['x-request-id'], forged.headers['x-request-id']]);
  });
});

describe('GET /api/roll', () => {
  it('returns {"value": n}', async (t) => {
    const app = build(t, { dice: diceThat(async () => 3) });
    const response = await app.inject({ method: 'GET', url: '/api/roll' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { value: 3 });
  });

  it('answers 503 with a JSON error carrying the gRPC code when the service is down', async (t) => {
    const app = build(t, { dice: failingWith(status.UNAVAILABLE) });
    const response = await app.inject({ method: 'GET', url: '/api/roll' });
    assert.equal(response.statusCode, 503);
    assert.deepEqual(response.json(), { error: 'The dice service is unavailable, try again shortly', grpcCode: 'UNAVAILABLE' });
  });

  it('answers 502 with the gRPC code for a non-transient failure', async (t) => {
    const app = build(t, { dice: failingWith(status.PERMISSION_DENIED) });
    const response = await app.inject({ method: 'GET', url: '/api/roll' });
    assert.equal(response.statusCode, 502);
    assert.equal(response.json().grpcCode, 'PERMISSION_DENIED');
  });

  it('keeps serving after failures: the app does not crash or stick', async (t) => {
    let calls = 0;
    const app = build(t, { dice: diceThat(async () => (++calls % 2 === 0 ? 5 : Promise.reject(new DiceCallError(status.UNAVAILABLE, 'down')))) });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'GET', url: '/api/roll' })).statusCode);
    assert.deepEqual(codes, [503, 200, 503, 200]);
  });
});

describe('unexpected errors and other routes', () => {
  it('turns an unexpected error into a plain 500 without message or stack', async (t) => {
    const app = build(t, { dice: diceThat(() => Promise.reject(new TypeError('secret internal detail'))) });
    for (const url of ['/', '/api/roll']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 500);
      assert.ok(!response.body.includes('secret internal detail'));
      assert.ok(!response.body.includes('at '), 'no stack trace');
    }
  });

  it('answers /healthz without calling the dice service', async (t) => {
    const app = build(t, { dice: diceThat(() => Promise.reject(new Error('must not be called'))) });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  });

  it('answers /healthz 200 "degraded" with the problems in words while there are any', async (t) => {
    let problems = ['the client certificate expires in 4m10s and has not been renewed: renew it'];
    const app = build(t, { dice: diceThat(() => Promise.reject(new Error('must not be called'))), healthProblems: () => problems });
    const degraded = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(degraded.statusCode, 200, 'still in service: calls work until the certificate expires');
    assert.deepEqual(degraded.json(), { status: 'degraded', problems });
    problems = [];
    assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
  });

  it('keeps /healthz polling out of the info log, but logs real requests', async (t) => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const app = build(t, { dice: diceThat(async () => 2), logger });
    await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(lines.length, 0, lines.join(''));
    await app.inject({ method: 'GET', url: '/api/roll' });
    assert.ok(lines.some((line) => line.includes('/api/roll')));
  });

  it('answers 404 for unknown routes', async (t) => {
    const app = build(t, { dice: diceThat(async () => 1) });
    assert.equal((await app.inject({ method: 'GET', url: '/nope' })).statusCode, 404);
  });
});

describe('the HTTP server', () => {
  it('takes its connection, request and keep-alive timeouts from the options', (t) => {
    const app = build(t, { dice: diceThat(async () => 1), httpTimeouts: { connectionTimeoutMs: 1111, requestTimeoutMs: 2222, keepAliveTimeoutMs: 3333 } });
    assert.equal(app.server.timeout, 1111);
    assert.equal(app.server.requestTimeout, 2222);
    assert.equal(app.server.keepAliveTimeout, 3333);
  });

  it('serialises /api/roll by its schema: nothing the schema does not name leaves the app', async (t) => {
    const app = build(t, { dice: fakeDice({ roll: async () => ({ value: 2, replica: 'r1', internal: 'secret' }) as never }) });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/roll' })).json(), { value: 2, replica: 'r1' });
  });
});

describe('benchmark routes', () => {
  it('are absent unless asked for', async (t) => {
    const app = build(t, { dice: diceThat(async () => 3) });
    assert.equal((await app.inject({ method: 'GET', url: '/bench/hello' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/bench/roll-new-channel' })).statusCode, 404);
  });

  it('serve a hello-world route and /api/roll on the channel-per-request roller when on', async (t) => {
    const app = build(t, { dice: diceThat(async () => 3, 'shared'), benchRoutes: { channelPerRequestDice: diceThat(async () => 5, 'fresh') } });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/bench/hello' })).json(), { hello: 'world' });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/bench/roll-new-channel' })).json(), { value: 5, replica: 'fresh' });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/roll' })).json(), { value: 3, replica: 'shared' });
  });
});
