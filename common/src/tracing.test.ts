import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exporterReason, tracingWanted } from './tracing.ts';

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

describe('exporterReason', () => {
  it('keeps the message of the error the SDK serialized, not its stack', () => {
    const serialized = JSON.stringify({ stack: 'Error: 14 UNAVAILABLE: No connection established\n    at callErrorFromStatus (call.js:32:19)', message: '14 UNAVAILABLE: No connection established', code: '14' });
    assert.equal(exporterReason(serialized), '14 UNAVAILABLE: No connection established');
    assert.equal(exporterReason('Export failed\n  at somewhere'), 'Export failed');
  });
});

