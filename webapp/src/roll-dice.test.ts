import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import { buildApp, closeWithin } from './app.ts';
import { DiceCallError, type RollResult } from './dice-channel.ts';
import { shuttingDownSentence } from './server-sent-events.ts';
import { build } from './testing/build-app.ts';
import { fakeDice } from './testing/fake-dice.ts';

/** The events of a text/event-stream body, as [name, data] pairs. */
function events(body: string): [string, unknown][] {
  return body
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const name = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      return [name, JSON.parse(data)];
    });
}

/** A RollDice stream that yields these values, then fails with `failure` if given. */
function streamOf(values: number[], failure?: DiceCallError) {
  const seen: { count?: number; intervalMs?: number; requestId?: string | undefined; finished: boolean } = { finished: false };
  const dice = fakeDice({
    async *rollDice({ count, intervalMs, requestId }): AsyncIterable<RollResult> {
      Object.assign(seen, { count, intervalMs, requestId });
      try {
        for (const value of values) yield { value, replica: 'r1' };
        if (failure) throw failure;
      } finally {
        seen.finished = true;
      }
    },
  });
  return { dice, seen };
}

describe('GET /api/roll-dice (Server-Sent Events)', () => {
  it('sends a roll event per die as it comes, then end with the count', async (t) => {
    const { dice, seen } = streamOf([3, 1, 6]);
    const app = build(t, { dice });
    const response = await app.inject({ method: 'GET', url: '/api/roll-dice?count=3&interval_ms=50', headers: { 'x-request-id': 'sse-1' } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.deepEqual(events(response.body), [
      ['roll', { value: 3, replica: 'r1' }],
      ['roll', { value: 1, replica: 'r1' }],
      ['roll', { value: 6, replica: 'r1' }],
      ['end', { count: 3 }],
    ]);
    assert.deepEqual(seen, { count: 3, intervalMs: 50, requestId: 'sse-1', finished: true });
  });

  it('rolls with a visible pause by default', async (t) => {
    const { dice, seen } = streamOf([2]);
    await build(t, { dice }).inject({ method: 'GET', url: '/api/roll-dice?count=1' });
    assert.equal(seen.intervalMs, 300);
  });

  for (const query of ['', '?count=0', '?count=101', '?count=two', '?count=3&interval_ms=5000']) {
    it(`answers 400 naming the field for "${query || '(no query)'}", and rolls nothing`, async (t) => {
      const { dice, seen } = streamOf([1]);
      const response = await build(t, { dice }).inject({ method: 'GET', url: `/api/roll-dice${query}` });
      assert.equal(response.statusCode, 400);
      assert.match(response.json<{ error: string }>().error, /querystring/);
      assert.equal(seen.count, undefined);
    });
  }

  it('answers 503 with the sentence when the service fails before the first die', async (t) => {
    const { dice } = streamOf([], new DiceCallError(status.UNAVAILABLE, 'connect ECONNREFUSED 10.0.0.1:9443'));
    const response = await build(t, { dice }).inject({ method: 'GET', url: '/api/roll-dice?count=4' });
    assert.equal(response.statusCode, 503);
    assert.deepEqual(response.json(), { error: 'The dice service is unavailable, try again shortly', grpcCode: 'UNAVAILABLE' });
  });

  it('ends with a failure event and the sentence when the service fails part-way, nothing internal', async (t) => {
    const { dice } = streamOf([4, 5], new DiceCallError(status.UNAVAILABLE, 'this server replica is shutting down at Socket.internal'));
    const response = await build(t, { dice }).inject({ method: 'GET', url: '/api/roll-dice?count=4' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(events(response.body).at(-1), ['failure', { error: 'The dice service is unavailable, try again shortly', grpcCode: 'UNAVAILABLE', count: 2 }]);
    assert.doesNotMatch(response.body, /Socket\.internal|shutting down/);
  });

  it('stops rolling when the browser goes away', async (t) => {
    let finished!: () => void;
    const stopped = new Promise<void>((resolve) => (finished = resolve));
    const dice = fakeDice({
      async *rollDice() {
        try {
          for (;;) {
            yield { value: 1 };
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        } finally {
          finished();
        }
      },
    });
    const app = build(t, { dice });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const abort = new AbortController();
    const response = await fetch(`${address}/api/roll-dice?count=100`, { signal: abort.signal });
    const reader = response.body?.getReader();
    await reader?.read();
    abort.abort();
    await stopped;
  });
});

describe('GET / with Roll N dice', () => {
  it('offers the form, and loads its one script from this origin as the CSP allows', async (t) => {
    const app = build(t, { dice: fakeDice({ roll: async () => ({ value: 2 }) }) });
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.match(page.body, /<form class="roll-dice" action="\/" method="get"/);
    assert.match(page.body, /<input type="number" name="count" min="1" max="100" value="5" required>/);
    assert.match(page.body, /<script src="\/assets\/roll-dice.js" defer><\/script>/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'; connect-src 'self'/);
    const script = await app.inject({ method: 'GET', url: '/assets/roll-dice.js' });
    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.match(script.body, /new EventSource\(`\/api\/roll-dice\?count=/);
  });

  it('shows all N dice and their total without JavaScript (?count=N)', async (t) => {
    const { dice, seen } = streamOf([1, 2, 6, 3]);
    const page = await build(t, { dice }).inject({ method: 'GET', url: '/?count=4' });
    assert.equal(page.statusCode, 200);
    assert.equal((page.body.match(/<li role="img" aria-label="Die showing \d"/g) ?? []).length, 4);
    assert.match(page.body, /<strong data-testid="total">12<\/strong>/);
    assert.equal(seen.intervalMs, 0, 'no pause: the page waits for all of them');
  });

  it('answers a bad count with a page that says so, status 400', async (t) => {
    const page = await build(t, { dice: fakeDice({}) }).inject({ method: 'GET', url: '/?count=500' });
    assert.equal(page.statusCode, 400);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /could not be served \(querystring\/count must be &lt;= 100\)/);
  });

  it('renders the unavailable page when the stream fails (without JavaScript)', async (t) => {
    const { dice } = streamOf([2], new DiceCallError(status.DEADLINE_EXCEEDED, 'late'));
    const page = await build(t, { dice }).inject({ method: 'GET', url: '/?count=3' });
    assert.equal(page.statusCode, 503);
    assert.match(page.body, /The dice service is unavailable, try again shortly/);
  });
});

describe('shutting down with event streams open', () => {
  it('ends an open stream at once with a failure event saying the web app is restarting, and closes', async (t) => {
    let cancelled = false;
    const dice = fakeDice({
      // The first die, then nothing until the signal cancels the call, as a real stream cancelled by the web app.
      async *rollDice({ signal }): AsyncIterable<RollResult> {
        yield { value: 4, replica: 'r1' };
        await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
        cancelled = true;
        throw new DiceCallError(status.CANCELLED, 'Cancelled on client');
      },
    });
    const app = buildApp({ dice });
    t.after(() => app.server.closeAllConnections());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/api/roll-dice?count=100&interval_ms=2000`);
    assert.ok(response.body, 'a streamed body');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    assert.match(body, /event: roll/, 'the first die arrived: the stream is open');
    const startedAt = Date.now();
    const closed = app.close();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) body += decoder.decode(chunk.value);
    await closed;
    assert.ok(Date.now() - startedAt < 5000, `closed in ${Date.now() - startedAt} ms, not after the stream's 100 dice`);
    assert.ok(cancelled, 'the gRPC call was cancelled');
    assert.deepEqual(events(body).at(-1), ['failure', { error: shuttingDownSentence, grpcCode: 'UNAVAILABLE', count: 1 }]);
  });

  it('closes the connections of requests still running after the grace (closeWithin)', async (t) => {
    const app = buildApp({ dice: fakeDice({ roll: () => new Promise(() => {}) }) });
    t.after(() => app.server.closeAllConnections());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const stuck = fetch(`http://127.0.0.1:${port}/api/roll`).then(() => 'answered', () => 'connection closed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const warnings: object[] = [];
    const startedAt = Date.now();
    await closeWithin(app, 300, { warn: (object) => warnings.push(object) });
    const took = Date.now() - startedAt;
    assert.ok(took >= 300 && took < 3000, `closed after ${took} ms: the grace, not the request`);
    assert.deepEqual(warnings, [{ graceMs: 300 }]);
    assert.equal(await stuck, 'connection closed');
  });
});
