import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './env.ts';
import { chosenInstrumentations, exportOutageReporter, exporterReason, otlpSignalWanted, tracingWanted } from './tracing.ts';

describe('tracingWanted', () => {
  it('is on only when an OTLP endpoint is named and the SDK is not disabled, as the specification names them', () => {
    assert.equal(tracingWanted({}), false, 'off by default');
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), false, 'compose passes an empty value through');
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' }), true);
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4317' }), true, 'the traces-only endpoint too');
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_SDK_DISABLED: 'TRUE' }), false);
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_SDK_DISABLED: 'false' }), true);
  });
});

describe('chosenInstrumentations', () => {
  const names = ['http', 'fastify', 'grpc', 'pino'] as const;
  const defaults = ['fastify', 'grpc', 'pino'] as const;
  const chosen = (env: Record<string, string>): string[] => [...chosenInstrumentations(names, defaults, env)].sort();

  it("runs the service's defaults unless OTEL_NODE_ENABLED_INSTRUMENTATIONS lists others", () => {
    assert.deepEqual(chosen({}), ['fastify', 'grpc', 'pino']);
    assert.deepEqual(chosen({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: ' ' }), ['fastify', 'grpc', 'pino'], 'compose passes an empty value through');
    assert.deepEqual(chosen({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, fastify,grpc,pino' }), ['fastify', 'grpc', 'http', 'pino']);
    assert.deepEqual(chosen({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'grpc' }), ['grpc'], 'only the ones listed');
  });

  it('takes OTEL_NODE_DISABLED_INSTRUMENTATIONS away after, so a name in both lists is off', () => {
    assert.deepEqual(chosen({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pino' }), ['fastify', 'grpc']);
    assert.deepEqual(chosen({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,grpc', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'grpc' }), ['http']);
  });

  it('stops on a name the service does not have, naming the variable and the names it has', () => {
    assert.throws(() => chosen({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS names express, which this service does not have: it has http, fastify, grpc, pino');
      return true;
    });
    assert.throws(() => chosen({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: '@opentelemetry/instrumentation-http' }), /^ConfigError: OTEL_NODE_DISABLED_INSTRUMENTATIONS names @opentelemetry\/instrumentation-http/);
  });
});

describe('exporterReason', () => {
  it('keeps the message of the error the SDK serialized, not its stack', () => {
    const serialized = JSON.stringify({ stack: 'Error: 14 UNAVAILABLE: No connection established\n    at callErrorFromStatus (call.js:32:19)', message: '14 UNAVAILABLE: No connection established', code: '14' });
    assert.equal(exporterReason(serialized), '14 UNAVAILABLE: No connection established');
    assert.equal(exporterReason('Export failed\n  at somewhere'), 'Export failed');
  });
});


describe('otlpSignalWanted', () => {
  it('exports metrics and logs only when their own variable names an exporter: the stack has Prometheus and stdout for them', () => {
    assert.equal(otlpSignalWanted('metrics', {}), false, 'not by the specification\'s otlp default');
    assert.equal(otlpSignalWanted('logs', { OTEL_LOGS_EXPORTER: '' }), false);
    assert.equal(otlpSignalWanted('logs', { OTEL_LOGS_EXPORTER: 'otlp' }), true);
    assert.equal(otlpSignalWanted('metrics', { OTEL_METRICS_EXPORTER: 'console, OTLP' }), true);
    assert.equal(otlpSignalWanted('metrics', { OTEL_METRICS_EXPORTER: 'otlp,none' }), false, 'none wins, as in the SDK');
    assert.equal(otlpSignalWanted('metrics', { OTEL_LOGS_EXPORTER: 'otlp' }), false, 'each signal by its own variable');
  });
});

describe('exportOutageReporter', () => {
  type Result = { code: number; error?: Error };
  /** An exporter whose next results the test sets, and the lines the reporter says. */
  const setUp = () => {
    const lines: string[] = [];
    const results: Result[] = [];
    const reporter = exportOutageReporter((level, msg) => lines.push(`${level}: ${msg}`));
    const exporter = reporter.exporter({
      export: (_spans, done) => done(results.shift() ?? { code: 0 }),
      shutdown: async () => {},
    });
    const exportSpans = (count: number, result: Result): Promise<Result> => {
      results.push(result);
      return new Promise((resolve) => exporter.export(Array.from({ length: count }) as never[], resolve));
    };
    return { lines, reporter, exportSpans };
  };

  it('says one line when exports start failing and one when they work again, with the spans lost, per outage', async () => {
    const { lines, reporter, exportSpans } = setUp();
    await exportSpans(3, { code: 0 });
    assert.deepEqual(lines, [], 'nothing while it works');
    const failed = await exportSpans(5, { code: 1, error: new Error('14 UNAVAILABLE: No connection established') });
    assert.equal(failed.code, 1, 'the processor still sees the failure');
    reporter.diagError(JSON.stringify({ message: '14 UNAVAILABLE: No connection established', stack: 'at x' }));
    await exportSpans(7, { code: 1, error: new Error('4 DEADLINE_EXCEEDED: Deadline exceeded') });
    reporter.diagError('Timeout');
    assert.deepEqual(lines, ['warn: the trace exporter failed; spans are dropped until it works again (said once per outage): 14 UNAVAILABLE: No connection established']);
    await exportSpans(2, { code: 0 });
    await exportSpans(2, { code: 0 });
    assert.equal(lines.length, 2);
    assert.equal(lines[1], 'info: the trace exporter works again; 12 spans of failed exports were dropped meanwhile');
    reporter.diagError('Timeout');
    assert.deepEqual(lines.slice(2), ['warn: the trace exporter failed; spans are dropped until it works again (said once per outage): Timeout'], 'a second outage is said again');
  });
});
